//! Accounts: password hashing (argon2id), login with lockout, sessions, password changes and
//! account creation within scope. Every outcome is audited.

use crate::domain::ids::{OrgId, UserId};
pub use crate::domain::mask::valid_phone;
use rand::Rng;
use sha2::{Digest, Sha256};

use crate::clock::unix_now;
use crate::db::audit::{self, Actor, Event};
use crate::db::orgs::{self, Scope};
use crate::db::users::{self, NewUser, User};
use crate::db::{Db, is_unique_violation, sessions};
use crate::domain::password::check_new_password;
use crate::domain::role::Role;
use crate::error::{AppError, FieldError};

/// Wrong passwords per window before the account locks; also the most passwords ever checked
/// for one account per window, however many arrive at once.
pub const MAX_FAILURES: i64 = 5;
/// The window those attempts are counted in.
pub const FAILURE_WINDOW_SECONDS: i64 = 15 * 60;
/// How long a lock lasts.
pub const LOCK_SECONDS: i64 = 15 * 60;

/// Hashes off the async threads: argon2id is deliberately slow.
pub async fn hash_password(password: &str) -> Result<String, AppError> {
    let password = password.to_string();
    argon2_pool::run(move || argon2_pool::hash(password.as_bytes()))
        .await
        .map_err(AppError::Internal)?
        .map_err(AppError::Internal)
}

async fn verify_password(password: &str, hash: &str) -> bool {
    let password = password.to_string();
    let hash = hash.to_string();
    argon2_pool::run(move || argon2_pool::verify(password.as_bytes(), &hash))
        .await
        .unwrap_or(false)
}

/// Two dedicated threads compute every argon2id hash, so a flood of login attempts takes at
/// most two cores' worth of hashing and two 19 MiB blocks of memory at a time; each block goes
/// back to the system after its hash (see `RESERVE_BYTES`).
mod argon2_pool {
    use std::sync::{Mutex, OnceLock, mpsc};

    use argon2::password_hash::{Output, ParamsString, PasswordHash, SaltString};
    use argon2::{Algorithm, Argon2, Block, Params, Version};
    use rand::Rng;

    /// Room reserved for one hash's memory: above glibc's largest mmap threshold (32 MiB), so
    /// the block is always its own mapping and goes back to the system when freed. (A 19 MiB
    /// allocation raises glibc's threshold when freed; later ones then come from the heap and
    /// are kept, and the server grew by 19 MiB with every sign-in.) Only the 19 MiB used are
    /// ever touched, so only they count as resident.
    const RESERVE_BYTES: usize = 33 << 20;

    /// Runs `f` with `blocks` of argon2 memory, allocated for this hash and freed after it.
    fn with_memory<T>(blocks: usize, f: impl FnOnce(&mut [Block]) -> T) -> T {
        let reserve = blocks.max(RESERVE_BYTES / std::mem::size_of::<Block>());
        let mut memory: Vec<Block> = Vec::with_capacity(reserve);
        memory.resize(blocks, Block::default());
        f(&mut memory)
    }

    /// An argon2id PHC string (default parameters) for `password`.
    pub fn hash(password: &[u8]) -> Result<String, anyhow::Error> {
        let params = Params::default();
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let salt = SaltString::encode_b64(&rand::rng().random::<[u8; 16]>())
            .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let mut salt_bytes = [0u8; 64];
        let salt_bytes = salt
            .as_salt()
            .decode_b64(&mut salt_bytes)
            .map_err(|e| anyhow::anyhow!("salt: {e}"))?;
        let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
        with_memory(params.block_count(), |memory| {
            argon.hash_password_into_with_memory(password, salt_bytes, &mut out, memory)
        })
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
        let phc = PasswordHash {
            algorithm: Algorithm::Argon2id.ident(),
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("{e}"))?,
            salt: Some(salt.as_salt()),
            hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("{e}"))?),
        };
        Ok(phc.to_string())
    }

    /// Whether `password` matches the argon2id PHC string `phc` (constant-time comparison).
    pub fn verify(password: &[u8], phc: &str) -> bool {
        let Ok(parsed) = PasswordHash::new(phc) else {
            return false;
        };
        let (Ok(Algorithm::Argon2id), Ok(params), Some(salt), Some(expected)) = (
            Algorithm::try_from(parsed.algorithm),
            Params::try_from(&parsed),
            parsed.salt,
            parsed.hash,
        ) else {
            return false;
        };
        let mut salt_bytes = [0u8; 64];
        let Ok(salt_bytes) = salt.decode_b64(&mut salt_bytes) else {
            return false;
        };
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
        let mut out = vec![0u8; expected.len()];
        let computed = with_memory(params.block_count(), |memory| {
            argon.hash_password_into_with_memory(password, salt_bytes, &mut out, memory)
        });
        computed.is_ok() && Output::new(&out).is_ok_and(|o| o == expected)
    }

    type Job = Box<dyn FnOnce() + Send>;

    const THREADS: usize = 2;

    fn queue() -> &'static Mutex<mpsc::Sender<Job>> {
        static QUEUE: OnceLock<Mutex<mpsc::Sender<Job>>> = OnceLock::new();
        QUEUE.get_or_init(|| {
            let (tx, rx) = mpsc::channel::<Job>();
            let rx = std::sync::Arc::new(Mutex::new(rx));
            for n in 0..THREADS {
                let rx = std::sync::Arc::clone(&rx);
                let _ = std::thread::Builder::new()
                    .name(format!("argon2-{n}"))
                    .spawn(move || {
                        loop {
                            let job = match rx.lock() {
                                Ok(guard) => guard.recv(),
                                Err(_) => return,
                            };
                            match job {
                                // A panicking job must not take a hashing thread with it.
                                Ok(job) => {
                                    let _ =
                                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(job));
                                }
                                Err(_) => return,
                            }
                        }
                    });
            }
            Mutex::new(tx)
        })
    }

    /// Runs `work` on one of the hashing threads and waits for it without blocking the runtime.
    pub async fn run<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, anyhow::Error> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(work());
        });
        queue()
            .lock()
            .map_err(|_| anyhow::anyhow!("argon2 pool poisoned"))?
            .send(job)
            .map_err(|_| anyhow::anyhow!("argon2 pool stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("argon2 job dropped"))
    }
}

/// A fixed hash checked against when the login does not exist, so a wrong login takes as
/// long as a wrong password and does not reveal which accounts exist.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2p6Jv1W2n3H8QfZq0f7QhYy8d4u3mE8Q2bXw9l6xw1E";

/// A fresh random token, hex-encoded (256 bits).
pub fn random_token() -> String {
    hex::encode(rand::rng().random::<[u8; 32]>())
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new session: the cookie value and its CSRF token.
pub struct NewSession {
    pub token: String,
    pub csrf: String,
}

/// Checks a login. Wrong logins and wrong passwords look the same to the caller.
pub async fn login(
    db: &Db,
    login: &str,
    password: &str,
    ip: &str,
) -> Result<(User, NewSession), AppError> {
    let login = login.trim();
    let now = unix_now();
    let attempted = Actor {
        user_id: None,
        login: login.chars().take(64).collect(),
        ip: ip.to_string(),
    };
    let failure = |reason: &'static str| Event {
        action: "login.failure",
        object_type: "session",
        object_id: String::new(),
        before: None,
        after: Some(serde_json::json!({ "reason": reason })),
    };
    let Some(user) = users::by_login(db, login).await? else {
        verify_password(password, DUMMY_HASH).await;
        audit::record(db, &attempted, failure("unknown_login")).await?;
        return Err(AppError::BadLogin);
    };
    let actor = Actor {
        user_id: Some(user.id),
        ..attempted
    };
    // The attempt is counted before the password is checked, so a burst of concurrent guesses
    // gets at most MAX_FAILURES checks per window, on every node at once.
    if users::take_attempt(db, user.id, now, MAX_FAILURES, FAILURE_WINDOW_SECONDS)
        .await?
        .is_none()
    {
        audit::record(db, &actor, failure("locked")).await?;
        return Err(match user.locked_until.filter(|until| *until > now) {
            Some(until) => AppError::Locked {
                minutes_left: (until - now + 59) / 60,
            },
            None => AppError::RateLimited,
        });
    }
    let right = verify_password(password, &user.password_hash).await && !user.disabled;
    let mut tx = db.begin().await?;
    if !right {
        let lock =
            users::record_failure(&mut tx, user.id, now, MAX_FAILURES, now + LOCK_SECONDS).await?;
        audit::append(
            &mut tx,
            &actor,
            failure(if user.disabled {
                "disabled"
            } else {
                "wrong_password"
            }),
        )
        .await?;
        if lock == Some(now + LOCK_SECONDS) {
            audit::append(
                &mut tx,
                &actor,
                Event {
                    action: "account.lock",
                    object_type: "user",
                    object_id: user.id.to_string(),
                    before: None,
                    after: Some(serde_json::json!({ "locked_minutes": LOCK_SECONDS / 60 })),
                },
            )
            .await?;
        }
        tx.commit().await?;
        return Err(match lock {
            Some(until) => AppError::Locked {
                minutes_left: (until - now + 59) / 60,
            },
            None => AppError::BadLogin,
        });
    }
    if !users::record_success(&mut tx, user.id, now).await? {
        // Another attempt's failure put the lock in force while this one was checked.
        drop(tx);
        audit::record(db, &actor, failure("locked")).await?;
        return Err(AppError::Locked {
            minutes_left: LOCK_SECONDS / 60,
        });
    }
    let session = NewSession {
        token: random_token(),
        csrf: random_token(),
    };
    sessions::insert(
        &mut tx,
        &hash_token(&session.token),
        user.id,
        &session.csrf,
        now,
        ip,
    )
    .await?;
    audit::append(
        &mut tx,
        &actor,
        Event {
            action: "login.success",
            object_type: "session",
            object_id: String::new(),
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok((user, session))
}

pub async fn logout(db: &Db, token: &str, actor: &Actor) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    sessions::delete(&mut tx, &hash_token(token)).await?;
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "logout",
            object_type: "session",
            object_id: String::new(),
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Changes one's own password. Every session of the account ends, this one too: the caller
/// gets a new session (a new id and CSRF token) to carry on with, so an id that was known
/// before the change is worth nothing after it.
pub async fn change_password(
    db: &Db,
    user: &User,
    current: &str,
    new: &str,
    confirm: &str,
    ip: &str,
    actor: &Actor,
) -> Result<NewSession, AppError> {
    if !verify_password(current, &user.password_hash).await {
        return Err(AppError::invalid("当前密码", "当前密码不正确"));
    }
    if new != confirm {
        return Err(AppError::invalid("确认新密码", "两次输入的新密码不一致"));
    }
    if new == current {
        return Err(AppError::invalid("新密码", "新密码不能与当前密码相同"));
    }
    let role = user.role;
    check_new_password(role, new, &user.login).map_err(|m| AppError::invalid("新密码", m))?;
    let hash = hash_password(new).await?;
    let mut tx = db.begin().await?;
    users::set_password(&mut tx, user.id, &hash, false).await?;
    sessions::delete_for_user(&mut tx, user.id, None).await?;
    let session = NewSession {
        token: random_token(),
        csrf: random_token(),
    };
    sessions::insert(
        &mut tx,
        &hash_token(&session.token),
        user.id,
        &session.csrf,
        unix_now(),
        ip,
    )
    .await?;
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "password.change",
            object_type: "user",
            object_id: user.id.to_string(),
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(session)
}

/// A one-time password that meets the staff policy; easy to read out (no 0/O, 1/l/I).
pub fn one_time_password() -> String {
    const LOWER: &[u8] = b"abcdefghijkmnpqrstuvwxyz";
    const UPPER: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";
    const DIGIT: &[u8] = b"23456789";
    let mut rng = rand::rng();
    let mut pick = |set: &[u8]| set[rng.random_range(0..set.len())] as char;
    let mut out = String::with_capacity(14);
    for i in 0..12 {
        out.push(match i % 3 {
            0 => pick(UPPER),
            1 => pick(LOWER),
            _ => pick(DIGIT),
        });
        if i == 5 {
            out.push('-');
        }
    }
    out
}

/// What an admin fills in to create an account.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct NewAccount {
    pub login: String,
    pub display_name: String,
    #[serde(default)]
    pub phone: Option<String>,
    /// Where reminders (催报) are mailed; optional.
    #[serde(default)]
    pub email: Option<String>,
    /// Role code, e.g. `unit_admin`.
    pub role: String,
    pub org_id: OrgId,
}

/// Creates an account in the creator's scope with a one-time password, returned once.
pub async fn create_account(
    db: &Db,
    scope: &Scope,
    creator_role: Role,
    input: &NewAccount,
    actor: &Actor,
) -> Result<(UserId, String), AppError> {
    let mut errors = Vec::new();
    let login = input.login.trim();
    if !valid_login(login) {
        errors.push(FieldError::new(
            "登录名",
            "登录名 3 至 64 个字符，只能用字母、数字和 . _ @ -（职工可用手机号）",
        ));
    }
    let display_name = crate::domain::text::name(
        &input.display_name,
        crate::domain::text::limits::PERSON_NAME,
    )
    .unwrap_or_else(|m| {
        errors.push(FieldError::new("姓名", format!("姓名{m}")));
        String::new()
    });
    let display_name = display_name.as_str();
    let phone = input
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty());
    if let Some(phone) = phone
        && !valid_phone(phone)
    {
        errors.push(FieldError::new(
            "手机号",
            "手机号应为 11 位数字，座机写成 022-12345678",
        ));
    }
    let email = match clean_email(input.email.as_deref()) {
        Ok(email) => email,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    let role = Role::parse(&input.role);
    match role {
        None => errors.push(FieldError::new("角色", "请选择角色")),
        Some(role) if !creator_role.may_grant(role) => errors.push(FieldError::new(
            "角色",
            format!("您不能创建“{}”账号", role.label_zh()),
        )),
        _ => {}
    }
    let org = orgs::get(db, scope, input.org_id).await?;
    if org.is_none() {
        errors.push(FieldError::new(
            "所属单位",
            "所属单位不存在或不在您的管理范围内",
        ));
    }
    let (Some(role), Some(org), true) = (role, org, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let password = one_time_password();
    let hash = hash_password(&password).await?;
    let mut tx = db.begin().await?;
    let id = users::insert(
        &mut tx,
        NewUser {
            login,
            display_name,
            phone,
            role,
            org_id: org.id,
            password_hash: &hash,
            must_change_password: true,
        },
    )
    .await
    .map_err(|e| {
        if is_unique_violation(&e) {
            AppError::invalid("登录名", format!("登录名“{login}”已被使用，请换一个"))
        } else {
            e.into()
        }
    })?;
    if email.is_some() {
        users::set_email(&mut tx, id, email).await?;
    }
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "user.create",
            object_type: "user",
            object_id: id.to_string(),
            before: None,
            after: Some(serde_json::json!({
                "login": login, "display_name": display_name, "role": role.code(), "org_id": org.id,
                "email": email.is_some(),
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((id, password))
}

/// A trimmed e-mail address, `None` when left empty, or the field error that says what to fix.
fn clean_email(email: Option<&str>) -> Result<Option<&str>, FieldError> {
    match email.map(str::trim).filter(|e| !e.is_empty()) {
        None => Ok(None),
        Some(e) if crate::mail::valid_email(e) => Ok(Some(e)),
        Some(_) => Err(FieldError::new(
            "电子邮箱",
            "电子邮箱格式不对，应写成 name@example.cn（不加空格和尖括号）",
        )),
    }
}

/// Sets (or, when empty, clears) an account's e-mail address. The caller has checked that the
/// account is in its scope.
pub async fn set_email(
    db: &Db,
    user_id: UserId,
    email: &str,
    actor: &Actor,
) -> Result<(), AppError> {
    let email = clean_email(Some(email)).map_err(|e| AppError::Invalid(vec![e]))?;
    let mut tx = db.begin().await?;
    users::set_email(&mut tx, user_id, email).await?;
    // The address itself is personal data: the log says that it changed, not what to.
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "user.email",
            object_type: "user",
            object_id: user_id.to_string(),
            before: None,
            after: Some(serde_json::json!({ "email_set": email.is_some() })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Resets an account's password to a new one-time password and ends its sessions.
pub async fn reset_password(db: &Db, user_id: UserId, actor: &Actor) -> Result<String, AppError> {
    let password = one_time_password();
    let hash = hash_password(&password).await?;
    let mut tx = db.begin().await?;
    users::set_password(&mut tx, user_id, &hash, true).await?;
    sessions::delete_for_user(&mut tx, user_id, None).await?;
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "password.reset",
            object_type: "user",
            object_id: user_id.to_string(),
            before: None,
            after: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(password)
}

/// What an admin may change of an account after it is made: name, role and unit.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct ProfileChange {
    pub display_name: String,
    /// Role code, e.g. `grassroots_admin`.
    pub role: String,
    pub org_id: OrgId,
}

/// The admin making a change: its role, its unit's path and its scope.
pub struct Editor<'a> {
    pub user_id: UserId,
    pub role: Role,
    pub org_path: &'a str,
    pub scope: &'a Scope,
}

/// Changes an account's name, role and unit. The editor must manage the account before and
/// after the change (no one makes an account they could not have made, nor moves it out of
/// their reach), may not edit their own role or unit, and loses to a concurrent edit rather
/// than overwrite it. Audited with the values before and after.
pub async fn update_profile(
    db: &Db,
    editor: &Editor<'_>,
    target: &users::UserRow,
    input: &ProfileChange,
    actor: &Actor,
) -> Result<(), AppError> {
    let mut errors = Vec::new();
    let display_name = crate::domain::text::name(
        &input.display_name,
        crate::domain::text::limits::PERSON_NAME,
    )
    .unwrap_or_else(|m| {
        errors.push(FieldError::new("姓名", format!("姓名{m}")));
        String::new()
    });
    let role = match Role::parse(&input.role) {
        None => {
            errors.push(FieldError::new("角色", "请选择角色"));
            None
        }
        Some(r) if r != target.role && !editor.role.may_grant(r) => {
            errors.push(FieldError::new(
                "角色",
                format!("您不能把账号设为“{}”", r.label_zh()),
            ));
            None
        }
        Some(r) => Some(r),
    };
    let org = orgs::get(db, editor.scope, input.org_id).await?;
    if org.is_none() {
        errors.push(FieldError::new(
            "所属单位",
            "所属单位不存在或不在您的管理范围内",
        ));
    }
    let self_edit = target.id == editor.user_id;
    if let (Some(role), Some(org)) = (role, &org) {
        if self_edit && (role != target.role || org.id != target.org_id) {
            errors.push(FieldError::new(
                "角色",
                "不能修改自己的角色或所属单位，请上级管理员修改",
            ));
        } else if !self_edit
            && !editor
                .role
                .may_manage_account(editor.org_path, role, &org.path)
        {
            errors.push(FieldError::new(
                "所属单位",
                format!(
                    "改后您将管不到这个账号：{}只能设在您下级单位（本单位只能设职工等非管理员账号）",
                    role.label_zh()
                ),
            ));
        }
    }
    let (Some(role), Some(org), true) = (role, org, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let mut tx = db.begin().await?;
    let changed = users::set_profile(
        &mut tx,
        target.id,
        users::Profile {
            display_name: &display_name,
            role,
            org_id: org.id,
        },
        (target.role, target.org_id),
    )
    .await?;
    if !changed {
        return Err(AppError::Conflict(
            crate::error::Conflict::ChangedMeanwhile,
            "这个账号刚被别人修改过，请刷新后再改".into(),
        ));
    }
    audit::append(
        &mut tx,
        actor,
        Event {
            action: "user.profile",
            object_type: "user",
            object_id: target.id.to_string(),
            before: Some(serde_json::json!({
                "display_name": target.display_name, "role": target.role.code(), "org_id": target.org_id,
            })),
            after: Some(serde_json::json!({
                "display_name": display_name, "role": role.code(), "org_id": org.id,
            })),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub fn valid_login(login: &str) -> bool {
    (3..=64).contains(&login.len())
        && login
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '@' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_passwords_meet_the_staff_policy() {
        for _ in 0..50 {
            let p = one_time_password();
            assert!(
                check_new_password(Role::CityAdmin, &p, "admin").is_ok(),
                "{p}"
            );
        }
    }

    #[tokio::test]
    async fn hashes_verify_and_dummy_is_well_formed() {
        let hash = hash_password("Correct-horse-9").await.unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("Correct-horse-9", &hash).await);
        assert!(!verify_password("wrong", &hash).await);
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
    }
}
