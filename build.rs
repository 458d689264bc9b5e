// `sqlx::migrate!` embeds the migrations when the crate compiles; a migration file added without
// a change to the Rust code would otherwise be missed by an incremental build.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
