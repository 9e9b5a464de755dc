//! Wire enums: the values WeChat Pay documents for a field, parsed leniently when received
//! (an unknown value survives as `Unknown(String)`) and strictly when a caller sends them.

/// Defines a wire enum whose unknown values survive a round trip as `Unknown(String)`.
macro_rules! wire_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
            /// A value this version does not know; kept verbatim.
            Unknown(String),
        }

        impl $name {
            /// Every documented value, in the order of the spec.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The wire value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $wire,)+
                    $name::Unknown(s) => s,
                }
            }

            /// Whether the value is one documented by WeChat Pay.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Unknown(_))
            }

            /// Parses a value a caller wants to send: only documented values are accepted
            /// (ASCII case ignored); anything else is an `invalid_input` error that names
            /// `field` and the allowed values. Values *received* from WeChat Pay go through
            /// `From<&str>` instead, which keeps unknown ones.
            pub fn parse_known(field: &str, text: &str) -> $crate::error::Result<$name> {
                $name::ALL
                    .iter()
                    .find(|v| v.as_str().eq_ignore_ascii_case(text.trim()))
                    .cloned()
                    .ok_or_else(|| $crate::wire_enum::unknown_value(field, text, $name::ALL.iter().map($name::as_str)))
            }

            /// Checks that a value about to be sent is a documented one.
            pub fn ensure_known(&self, field: &str) -> $crate::error::Result<()> {
                match self {
                    $name::Unknown(text) => Err($crate::wire_enum::unknown_value(
                        field,
                        text,
                        $name::ALL.iter().map($name::as_str),
                    )),
                    _ => Ok(()),
                }
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            /// A documented value in any ASCII case, else `Unknown` with the text as given.
            fn from_str(s: &str) -> std::result::Result<$name, Self::Err> {
                Ok(match s {
                    $($wire => $name::$variant,)+
                    other => $name::ALL
                        .iter()
                        .find(|v| v.as_str().eq_ignore_ascii_case(other))
                        .cloned()
                        .unwrap_or_else(|| $name::Unknown(other.to_owned())),
                })
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> $name {
                match s.parse() {
                    Ok(v) => v,
                    Err(never) => match never {},
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> std::result::Result<$name, D::Error> {
                let s = <String as ::serde::Deserialize>::deserialize(d)?;
                Ok($name::from(s.as_str()))
            }
        }

        /// The documented values: what a caller may send.
        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                let values: Vec<&str> = $name::ALL.iter().map($name::as_str).collect();
                ::schemars::json_schema!({ "type": "string", "enum": values })
            }
        }
    };
}

/// The error for a value outside an enum's documented set; the value is described, not shown.
pub(crate) fn unknown_value<'a>(
    field: &str,
    text: &str,
    allowed: impl Iterator<Item = &'a str>,
) -> crate::error::Error {
    crate::error::Error::InvalidInput(format!(
        "{field} must be one of {}; got {}",
        allowed.collect::<Vec<_>>().join(", "),
        crate::redact::Rejected(text)
    ))
}

/// Defines an enum of names this crate owns (error kinds and families, key modes): a closed
/// set, so no `Unknown` variant, with the same string forms as [`wire_enum!`]'s (`as_str`,
/// `Display`, `Serialize`, a JSON Schema `enum`) and `from_name` for the way back.
macro_rules! closed_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $wire:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in declaration order (a slice, so that adding one is not a
            /// breaking change; bindings check their mappings against it).
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The stable snake_case name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }

            /// The value whose [`as_str`](Self::as_str) is `name`, exactly.
            pub fn from_name(name: &str) -> Option<$name> {
                match name {
                    $($wire => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                let values: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                ::schemars::json_schema!({ "type": "string", "enum": values })
            }
        }
    };
}
