//! `wangju serve` (the web server on the configured address) and `wangju migrate` (start-up
//! already brought the schema up to date; this only says so).

use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::AppState;
use crate::config::Settings;

pub(super) async fn serve(state: AppState, settings: &Settings) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("无法监听 {}", settings.listen))?;
    let addr = listener.local_addr()?;
    println!("网聚已启动：http://{addr}/");
    crate::app::serve(state, listener).await?;
    Ok(())
}

pub(super) fn migrate() {
    println!("数据库已是最新结构。");
}
