//! Password policy. Staff: at least 10 characters from at least 3 of 4 classes (lower, upper,
//! digit, symbol). Workers: at least 8 characters with letters and digits, as phones make long
//! passwords hard to type.

use super::role::Role;

pub const STAFF_MIN_LEN: usize = 10;
pub const WORKER_MIN_LEN: usize = 8;

/// Checks a new password; the error says in Chinese what to change.
pub fn check_new_password(role: Role, password: &str, login: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len > 128 {
        return Err("密码不能超过 128 个字符".into());
    }
    if !login.is_empty() && password.to_lowercase().contains(&login.to_lowercase()) {
        return Err("密码不能包含登录名".into());
    }
    let lower = password.chars().any(|c| c.is_ascii_lowercase());
    let upper = password.chars().any(|c| c.is_ascii_uppercase());
    let digit = password.chars().any(|c| c.is_ascii_digit());
    let symbol = password.chars().any(|c| !c.is_ascii_alphanumeric());
    if role.is_staff() {
        let classes = [lower, upper, digit, symbol].iter().filter(|&&b| b).count();
        if len < STAFF_MIN_LEN {
            return Err(format!(
                "密码至少 {STAFF_MIN_LEN} 个字符，现在只有 {len} 个"
            ));
        }
        if classes < 3 {
            return Err(format!(
                "密码须包含小写字母、大写字母、数字、符号中的至少 3 类，现在只有 {classes} 类"
            ));
        }
    } else {
        if len < WORKER_MIN_LEN {
            return Err(format!(
                "密码至少 {WORKER_MIN_LEN} 个字符，现在只有 {len} 个"
            ));
        }
        if !(lower || upper) || !digit {
            return Err("密码须同时包含字母和数字".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staff_policy() {
        assert!(check_new_password(Role::CityAdmin, "Short1!", "admin").is_err());
        assert!(check_new_password(Role::CityAdmin, "alllowercase1", "admin").is_err());
        assert!(check_new_password(Role::CityAdmin, "Lower-and-1", "admin").is_ok());
        assert!(check_new_password(Role::CityAdmin, "Admin-12345", "admin").is_err());
        assert!(check_new_password(Role::UnitAdmin, "UPPER-lower", "x").is_ok());
    }

    #[test]
    fn worker_policy() {
        assert!(check_new_password(Role::Worker, "abc12345", "13800000000").is_ok());
        assert!(check_new_password(Role::Worker, "abcdefgh", "13800000000").is_err());
    }
}
