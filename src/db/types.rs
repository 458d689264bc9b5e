//! How domain types are stored: enums as their snake_case code in a TEXT column, ids as
//! BIGINT. Decoding fails loudly on a code the program does not know (a row written by a newer
//! version, or by hand), instead of quietly reading it as some default.

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::{Database, Decode, Encode, Type};

use crate::domain::activity::Status;
use crate::domain::ids::{ActivityId, CampaignId, OrgId, UserId, WorkId};
use crate::domain::org::OrgKind;
use crate::domain::publicity::{ObjectionState, PublicityKind, PublicityState};
use crate::domain::role::Role;
use crate::domain::work::WorkStatus;

/// An enum stored as its code (`code()` out, `from_code()` in).
macro_rules! stored_as_code {
    ($($t:ty),*) => {$(
        impl<DB: Database> Type<DB> for $t
        where
            str: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <str as Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <str as Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $t
        where
            &'r str: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                let code = <&str as Decode<DB>>::decode(value)?;
                <$t>::from_code(code).ok_or_else(|| {
                    format!("unknown {} {code:?} stored in the database", stringify!($t)).into()
                })
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $t
        where
            &'q str: Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as Database>::ArgumentBuffer<'q>,
            ) -> Result<IsNull, BoxDynError> {
                <&str as Encode<DB>>::encode(self.code(), buf)
            }
        }
    )*};
}

/// An id stored as a BIGINT.
macro_rules! stored_as_bigint {
    ($($t:ident),*) => {$(
        impl<DB: Database> Type<DB> for $t
        where
            i64: Type<DB>,
        {
            fn type_info() -> DB::TypeInfo {
                <i64 as Type<DB>>::type_info()
            }
            fn compatible(ty: &DB::TypeInfo) -> bool {
                <i64 as Type<DB>>::compatible(ty)
            }
        }

        impl<'r, DB: Database> Decode<'r, DB> for $t
        where
            i64: Decode<'r, DB>,
        {
            fn decode(value: <DB as Database>::ValueRef<'r>) -> Result<Self, BoxDynError> {
                <i64 as Decode<DB>>::decode(value).map($t)
            }
        }

        impl<'q, DB: Database> Encode<'q, DB> for $t
        where
            i64: Encode<'q, DB>,
        {
            fn encode_by_ref(
                &self,
                buf: &mut <DB as Database>::ArgumentBuffer<'q>,
            ) -> Result<IsNull, BoxDynError> {
                <i64 as Encode<DB>>::encode(self.0, buf)
            }
        }
    )*};
}

stored_as_code!(
    Status,
    OrgKind,
    Role,
    WorkStatus,
    PublicityKind,
    PublicityState,
    ObjectionState
);
stored_as_bigint!(OrgId, UserId, ActivityId, WorkId, CampaignId);
