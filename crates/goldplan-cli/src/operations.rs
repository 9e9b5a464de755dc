//! The registry's operations as subcommands, one group per service: `goldplan gold-plan
//! <operation>` and `goldplan pay <operation>`. One subcommand per remote or client
//! [`Operation`] of the service, one flag per parameter of its arguments schema, built when the
//! command line is parsed. A new operation in the registry is a new subcommand here without an
//! edit.

use clap::{Arg, ArgAction, ArgMatches, Command, FromArgMatches, Subcommand};
use goldplan::client::Operation;
use goldplan::service::{Param, ParamType, parameters};
use serde_json::{Map, Value};

/// Flag spellings of earlier releases, still accepted (hidden from `--help`): parameter
/// name → old flag.
const OLD_FLAGS: &[(&str, &str)] = &[
    ("operation_type", "operation"),
    ("operation_pay_scene", "scene"),
    ("advertising_industry_filters", "industry"),
];

/// Short names the `pay` group also answers to (`goldplan pay prepay`): alias → operation.
const SHORT_NAMES: &[(&str, Operation)] = &[
    ("prepay", Operation::JsapiPrepay),
    ("sign", Operation::RequestPayment),
    ("query", Operation::QueryOrderByOutTradeNo),
    ("query-by-id", Operation::QueryOrderByTransactionId),
    ("close", Operation::CloseOrder),
    ("resolve", Operation::ResolveTransactionId),
];

/// One registry operation and its arguments object, as parsed from the command line.
#[derive(Debug, Clone)]
pub struct RegistryCall {
    /// The operation.
    pub operation: Operation,
    /// Its arguments, keyed by wire name; absent flags are left out.
    pub arguments: Value,
}

/// The operations of `service` that run on a client from JSON (remote calls and client
/// operations), with their parameters. The registry's own schemas always read as parameters
/// (the registry test in the core checks it); one that did not would be left out rather than
/// break every other subcommand.
fn operations_of(service: &str) -> Vec<(Operation, String, Vec<Param>)> {
    Operation::ALL
        .iter()
        .filter(|op| op.service() == Some(service))
        .filter_map(|op| {
            let descriptor = op.descriptor();
            let params = parameters(&descriptor.arguments).ok()?;
            Some((*op, descriptor.doc.to_owned(), params))
        })
        .collect()
}

fn flag(name: &str) -> String {
    name.replace('_', "-")
}

fn subcommand(operation: Operation, doc: String, params: &[Param]) -> Command {
    let mut command = Command::new(flag(operation.as_str())).about(doc);
    for (alias, _) in SHORT_NAMES.iter().filter(|(_, op)| *op == operation) {
        command = command.visible_alias(*alias);
    }
    for param in params {
        let mut help = param.doc.clone();
        if let Some(values) = param.ty.choices() {
            help = format!("{help} One of: {}.", values.join(", "));
        }
        if param.ty.is_list() {
            help.push_str(" Repeat the flag or separate values with commas.");
        }
        let mut arg = Arg::new(param.name.clone())
            .long(flag(&param.name))
            .value_name(param.name.to_uppercase())
            .help(help)
            .required(param.required);
        arg = match param.ty {
            ParamType::TextList | ParamType::ChoiceList(_) => {
                arg.action(ArgAction::Append).value_delimiter(',')
            }
            ParamType::Flag => arg.value_parser(clap::value_parser!(bool)),
            ParamType::Integer => arg.value_parser(clap::value_parser!(i64)),
            _ => arg,
        };
        if let Some((_, old)) = OLD_FLAGS.iter().find(|(name, _)| *name == param.name) {
            arg = arg.alias(*old);
        }
        command = command.arg(arg);
    }
    command
}

fn argument(param: &Param, matches: &ArgMatches) -> Option<Value> {
    match param.ty {
        ParamType::TextList | ParamType::ChoiceList(_) => {
            let values: Vec<Value> = matches
                .get_many::<String>(&param.name)?
                .map(|v| Value::String(v.clone()))
                .collect();
            // An empty list means "none": the key is left out, as the spec wants.
            (!values.is_empty()).then_some(Value::Array(values))
        }
        ParamType::Flag => matches
            .get_one::<bool>(&param.name)
            .map(|b| Value::Bool(*b)),
        ParamType::Integer => matches.get_one::<i64>(&param.name).map(|n| Value::from(*n)),
        ParamType::Json => {
            let text = matches.get_one::<String>(&param.name)?;
            Some(serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.clone())))
        }
        ParamType::Text | ParamType::Choice(_) => matches
            .get_one::<String>(&param.name)
            .map(|v| Value::String(v.clone())),
    }
}

impl RegistryCall {
    fn parse(service: &str, matches: &ArgMatches) -> Result<RegistryCall, clap::Error> {
        let (name, matches) = matches
            .subcommand()
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::MissingSubcommand))?;
        let (operation, _, params) = operations_of(service)
            .into_iter()
            .find(|(op, _, _)| names_of(*op).any(|n| n == name))
            .ok_or_else(|| clap::Error::new(clap::error::ErrorKind::InvalidSubcommand))?;
        let arguments: Map<String, Value> = params
            .iter()
            .filter_map(|p| argument(p, matches).map(|v| (p.name.clone(), v)))
            .collect();
        Ok(RegistryCall {
            operation,
            arguments: Value::Object(arguments),
        })
    }

    fn subcommands(service: &str, command: Command) -> Command {
        operations_of(service)
            .into_iter()
            .fold(command, |command, (op, doc, params)| {
                command.subcommand(subcommand(op, doc, &params))
            })
    }

    fn has(service: &str, name: &str) -> bool {
        Operation::ALL
            .iter()
            .any(|op| op.service() == Some(service) && names_of(*op).any(|n| n == name))
    }
}

/// The subcommand name of `op` and its short names.
fn names_of(op: Operation) -> impl Iterator<Item = String> {
    std::iter::once(flag(op.as_str())).chain(
        SHORT_NAMES
            .iter()
            .filter(move |(_, o)| *o == op)
            .map(|(alias, _)| (*alias).to_owned()),
    )
}

/// Declares the subcommand group of one service.
macro_rules! service_group {
    ($(#[$doc:meta])* $group:ident, $service:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $group(pub RegistryCall);

        impl FromArgMatches for $group {
            fn from_arg_matches(matches: &ArgMatches) -> Result<$group, clap::Error> {
                RegistryCall::parse($service, matches).map($group)
            }

            fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
                *self = $group::from_arg_matches(matches)?;
                Ok(())
            }
        }

        impl Subcommand for $group {
            fn augment_subcommands(command: Command) -> Command {
                RegistryCall::subcommands($service, command)
            }

            fn augment_subcommands_for_update(command: Command) -> Command {
                RegistryCall::subcommands($service, command)
            }

            fn has_subcommand(name: &str) -> bool {
                RegistryCall::has($service, name)
            }
        }
    };
}

service_group!(
    /// `goldplan gold-plan <operation>`: the Gold Plan calls.
    GoldPlanCall,
    "gold_plan"
);
service_group!(
    /// `goldplan pay <operation>`: partner JSAPI payments.
    PayCall,
    "payments"
);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]
    use super::*;

    fn parse(args: &[&str]) -> Result<RegistryCall, clap::Error> {
        let command = GoldPlanCall::augment_subcommands(Command::new("gold-plan"));
        let matches = command.try_get_matches_from(args)?;
        GoldPlanCall::from_arg_matches(&matches).map(|call| call.0)
    }

    fn parse_pay(args: &[&str]) -> Result<RegistryCall, clap::Error> {
        let command = PayCall::augment_subcommands(Command::new("pay"));
        let matches = command.try_get_matches_from(args)?;
        PayCall::from_arg_matches(&matches).map(|call| call.0)
    }

    #[test]
    fn payments_answer_to_their_names_and_short_names_with_json_objects() {
        let prepay = parse_pay(&[
            "pay",
            "prepay",
            "--sp-appid",
            "wx8888888888888888",
            "--sp-mchid",
            "1900000100",
            "--sub-mchid",
            "1900000109",
            "--description",
            "d",
            "--out-trade-no",
            "ORDER1",
            "--notify-url",
            "https://x.example/n",
            "--amount",
            r#"{"total":100}"#,
            "--payer",
            r#"{"sp_openid":"o"}"#,
        ])
        .unwrap();
        assert_eq!(prepay.operation, Operation::JsapiPrepay);
        assert_eq!(
            prepay.arguments["amount"],
            serde_json::json!({"total": 100})
        );
        let sign = parse_pay(&["pay", "sign", "--app-id", "wx1", "--prepay-id", "wx2"]).unwrap();
        assert_eq!(sign.operation, Operation::RequestPayment);
        let close = parse_pay(&[
            "pay",
            "close-order",
            "--out-trade-no",
            "ORDER1",
            "--sp-mchid",
            "1",
            "--sub-mchid",
            "2",
        ])
        .unwrap();
        assert_eq!(close.operation, Operation::CloseOrder);
        // Each group holds its own service only.
        assert!(parse_pay(&["pay", "close-advertising-show", "--sub-mchid", "1"]).is_err());
        assert!(parse(&["gold-plan", "prepay"]).is_err());
    }

    #[test]
    fn every_remote_operation_is_a_subcommand_with_its_parameters_as_flags() {
        let call = parse(&[
            "gold-plan",
            "change-gold-plan-status",
            "--sub-mchid",
            "1900000109",
            "--operation-type",
            "open",
        ])
        .unwrap();
        assert_eq!(call.operation, Operation::ChangeGoldPlanStatus);
        assert_eq!(
            call.arguments,
            serde_json::json!({"sub_mchid": "1900000109", "operation_type": "open"})
        );
        let gold_plan = GoldPlanCall::augment_subcommands(Command::new("gold-plan"));
        let pay = PayCall::augment_subcommands(Command::new("pay"));
        for op in Operation::ALL.iter().filter(|op| op.endpoint().is_some()) {
            let (group, has): (&Command, fn(&str) -> bool) = match op.service() {
                Some("gold_plan") => (&gold_plan, GoldPlanCall::has_subcommand),
                Some("payments") => (&pay, PayCall::has_subcommand),
                other => panic!("{op}: no CLI group for service {other:?}"),
            };
            assert!(group.find_subcommand(flag(op.as_str())).is_some(), "{op}");
            assert!(has(&flag(op.as_str())));
        }
    }

    #[test]
    fn lists_repeat_or_split_and_old_flags_still_work() {
        let call = parse(&[
            "gold-plan",
            "set-advertising-industry-filter",
            "--sub-mchid",
            "1",
            "--industry",
            "SOFTWARE,GAME",
            "--advertising-industry-filters",
            "CAR",
        ])
        .unwrap();
        assert_eq!(
            call.arguments["advertising_industry_filters"],
            serde_json::json!(["SOFTWARE", "GAME", "CAR"])
        );
        let call = parse(&[
            "gold-plan",
            "change-gold-plan-status",
            "--sub-mchid",
            "1",
            "--operation",
            "CLOSE",
            "--scene",
            "JSAPI",
        ])
        .unwrap();
        assert_eq!(call.arguments["operation_pay_scene"], "JSAPI");
        let open = parse(&["gold-plan", "open-advertising-show", "--sub-mchid", "1"]).unwrap();
        assert_eq!(open.arguments, serde_json::json!({"sub_mchid": "1"}));
        let missing = parse(&["gold-plan", "close-advertising-show"]).unwrap_err();
        assert_eq!(
            missing.kind(),
            clap::error::ErrorKind::MissingRequiredArgument
        );
    }
}
