//! The five Gold Plan endpoints (spec §8) and their business rules, with state per
//! (provider, special merchant).

use std::sync::Arc;

use goldplan::client::Operation;
use goldplan::gold_plan::{
    IndustryType, MAX_INDUSTRY_FILTERS, MAX_SUB_MCHID_LEN, OperationPayScene, OperationType,
};
use serde_json::{Map, Value};

use crate::model::{ProviderType, SubMerchantState, Switch};
use crate::state::{Merchant, Shared};
use crate::wire::{Caller, Reply};

/// Whether this module serves `op` (the gateway routes to it every registry operation for
/// which this says yes, at the path the registry gives).
pub(crate) fn handles(op: Operation) -> bool {
    matches!(
        op,
        Operation::ChangeGoldPlanStatus
            | Operation::ChangeCustomPageStatus
            | Operation::SetAdvertisingIndustryFilter
            | Operation::OpenAdvertisingShow
            | Operation::CloseAdvertisingShow
    )
}

/// The validated body of one call.
enum Command {
    GoldPlan(Switch, Vec<&'static str>),
    CustomPage(Switch),
    SetFilter(Vec<String>),
    OpenAdShow(Option<Vec<String>>),
    CloseAdShow,
}

/// Message of the 24-hour re-open rule.
pub const REOPEN_TOO_SOON: &str = "点金计划关闭后24小时内不可重新开通";

pub(crate) async fn handle(
    app: &Arc<Shared>,
    op: Operation,
    caller: &Caller,
    body: &[u8],
) -> Reply {
    match run(app, op, caller, body) {
        Ok(reply) => {
            // Only accepted calls change the state (the rate-limit counter is not stored).
            app.persist_state_logged().await;
            reply
        }
        Err(reply) => reply,
    }
}

fn run(app: &Shared, op: Operation, caller: &Caller, body: &[u8]) -> Result<Reply, Reply> {
    let now = app.now();
    let mut guard = app.lock();
    let st = &mut *guard;
    let settings = st.settings.clone();
    let not_found = Reply::unknown_merchant;
    if let Some(limit) = settings.rate_limit {
        let m = st.merchants.get_mut(&caller.mchid).ok_or_else(not_found)?;
        let window = now.div_euclid(limit.window_secs.max(1));
        if m.rate_window.0 != window {
            m.rate_window = (window, 0);
        }
        if m.rate_window.1 >= limit.max_requests {
            return Err(Reply::invalid_request("命中频率限制"));
        }
        m.rate_window.1 += 1;
    }
    let obj = parse_object(body)?;
    reject_nulls(&obj)?;
    let sub_mchid = sub_mchid(&obj)?;
    let command = match op {
        Operation::ChangeGoldPlanStatus => {
            let switch = operation_type(&obj)?;
            let scene = match obj.get("operation_pay_scene") {
                None => OperationPayScene::Jsapi,
                Some(v) => enum_value::<OperationPayScene>(v, "/operation_pay_scene")?,
            };
            let scenes = match scene {
                OperationPayScene::JsapiAndMiniprogram => vec!["JSAPI", "MINIPROGRAM"],
                OperationPayScene::Miniprogram => vec!["MINIPROGRAM"],
                _ => vec!["JSAPI"],
            };
            Command::GoldPlan(switch, scenes)
        }
        Operation::ChangeCustomPageStatus => Command::CustomPage(operation_type(&obj)?),
        Operation::SetAdvertisingIndustryFilter => match industry_filters(&obj, 1)? {
            Some(f) => Command::SetFilter(f),
            None => {
                return Err(Reply::param_error(
                    "/advertising_industry_filters",
                    None,
                    "field is required",
                ));
            }
        },
        Operation::OpenAdvertisingShow => {
            // Spec §8.5: without filters the key is omitted, never sent as `[]`.
            if let Some(v @ Value::Array(items)) = obj.get("advertising_industry_filters")
                && items.is_empty()
            {
                return Err(Reply::param_error(
                    "/advertising_industry_filters",
                    Some(v),
                    "must not be empty: omit the key when there are no filters",
                ));
            }
            Command::OpenAdShow(industry_filters(&obj, 1)?)
        }
        Operation::CloseAdvertisingShow => Command::CloseAdShow,
        // `handles` keeps every other operation away from here.
        _ => return Err(Reply::error(404, "NOT_FOUND", "请求的资源不存在")),
    };

    let provider_has_sub = st
        .merchants
        .get(&caller.mchid)
        .is_some_and(|m| m.sub_merchants.contains_key(&sub_mchid));
    let known_elsewhere = st
        .merchants
        .values()
        .any(|m| m.sub_merchants.contains_key(&sub_mchid));
    let m: &mut Merchant = st.merchants.get_mut(&caller.mchid).ok_or_else(not_found)?;
    if m.provider_type == ProviderType::Institution {
        return Err(Reply::invalid_request("调用方非普通服务商/渠道商"));
    }
    if !m.gold_plan_joined {
        return Err(Reply::invalid_request("服务商未开通点金计划"));
    }
    if m.punished {
        return Err(Reply::invalid_request("服务商被处罚中"));
    }
    if !provider_has_sub {
        return Err(if known_elsewhere {
            Reply::invalid_request("特约商户信息逻辑错误")
        } else {
            Reply::error(400, "MCH_NOT_EXISTS", "特约商户号不存在")
        });
    }
    let provider_link = m.receipt_link.clone();
    let sub = m.sub_merchants.get_mut(&sub_mchid).ok_or_else(not_found)?;
    if sub.punished {
        return Err(Reply::invalid_request("特约商户被处罚中"));
    }
    let ok_body = || Reply::json(200, &serde_json::json!({ "sub_mchid": sub_mchid }));
    match command {
        Command::GoldPlan(Switch::Open, scenes) => {
            if sub.gold_plan == Switch::Close
                && sub
                    .closed_at
                    .is_some_and(|closed| now - closed < settings.reopen_wait_secs)
            {
                return Err(Reply::invalid_request(REOPEN_TOO_SOON));
            }
            if sub.gold_plan == Switch::Close {
                sub.opened_at = Some(now);
            }
            for s in scenes {
                if !sub.pay_scenes.iter().any(|x| x == s) {
                    sub.pay_scenes.push(s.to_owned());
                }
            }
            sub.pay_scenes.sort();
            sub.gold_plan = Switch::Open;
            Ok(ok_body())
        }
        Command::GoldPlan(_, scenes) => {
            sub.pay_scenes.retain(|s| !scenes.contains(&s.as_str()));
            if sub.pay_scenes.is_empty() && sub.gold_plan == Switch::Open {
                sub.gold_plan = Switch::Close;
                sub.closed_at = Some(now);
            }
            Ok(ok_body())
        }
        Command::CustomPage(switch) => {
            if sub.receipt_link.is_none() && provider_link.is_none() {
                return Err(Reply::invalid_request("服务商未配置商家小票链接"));
            }
            sub.custom_page = switch;
            Ok(ok_body())
        }
        Command::SetFilter(filters) => {
            require_gold_plan(sub)?;
            sub.advertising_industry_filters = filters;
            Ok(Reply::no_content())
        }
        Command::OpenAdShow(filters) => {
            require_gold_plan(sub)?;
            if let Some(f) = filters {
                sub.advertising_industry_filters = f;
            }
            sub.advertising_show = Switch::Open;
            Ok(Reply::no_content())
        }
        Command::CloseAdShow => {
            require_gold_plan(sub)?;
            sub.advertising_show = Switch::Close;
            Ok(Reply::no_content())
        }
    }
}

fn require_gold_plan(sub: &SubMerchantState) -> Result<(), Reply> {
    if sub.gold_plan == Switch::Open {
        Ok(())
    } else {
        Err(Reply::invalid_request("特约商户未开通点金计划"))
    }
}

fn parse_object(body: &[u8]) -> Result<Map<String, Value>, Reply> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(Reply::param_error(
            "/",
            None,
            "the body must be a JSON object",
        )),
        Err(e) => Err(Reply::param_error(
            "/",
            None,
            &format!("the body is not valid JSON: {e}"),
        )),
    }
}

/// Spec §0: optional fields are omitted, never sent as `null`.
fn reject_nulls(obj: &Map<String, Value>) -> Result<(), Reply> {
    match obj.iter().find(|(_, v)| v.is_null()) {
        Some((key, _)) => Err(Reply::param_error(
            &format!("/{key}"),
            None,
            "must not be null: omit the key instead",
        )),
        None => Ok(()),
    }
}

fn sub_mchid(obj: &Map<String, Value>) -> Result<String, Reply> {
    match obj.get("sub_mchid") {
        None => Err(Reply::param_error("/sub_mchid", None, "field is required")),
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= MAX_SUB_MCHID_LEN => {
            Ok(s.clone())
        }
        Some(v @ Value::String(_)) => Err(Reply::param_error(
            "/sub_mchid",
            Some(v),
            "length must be 1 to 32",
        )),
        Some(v) => Err(Reply::param_error(
            "/sub_mchid",
            Some(v),
            "must be a string",
        )),
    }
}

fn enum_value<T: for<'a> From<&'a str> + EnumKnown>(v: &Value, field: &str) -> Result<T, Reply> {
    let Value::String(s) = v else {
        return Err(Reply::param_error(field, Some(v), "must be a string"));
    };
    let parsed = T::from(s.as_str());
    if parsed.known() {
        Ok(parsed)
    } else {
        Err(Reply::param_error(
            field,
            Some(v),
            "value not in enumeration",
        ))
    }
}

trait EnumKnown {
    fn known(&self) -> bool;
}

impl EnumKnown for OperationType {
    fn known(&self) -> bool {
        self.is_known()
    }
}
impl EnumKnown for OperationPayScene {
    fn known(&self) -> bool {
        self.is_known()
    }
}
impl EnumKnown for IndustryType {
    fn known(&self) -> bool {
        self.is_known()
    }
}

fn operation_type(obj: &Map<String, Value>) -> Result<Switch, Reply> {
    let Some(v) = obj.get("operation_type") else {
        return Err(Reply::param_error(
            "/operation_type",
            None,
            "field is required",
        ));
    };
    Ok(match enum_value::<OperationType>(v, "/operation_type")? {
        OperationType::Open => Switch::Open,
        _ => Switch::Close,
    })
}

/// `advertising_industry_filters`: `None` when absent; otherwise `min..=3` known tags.
fn industry_filters(obj: &Map<String, Value>, min: usize) -> Result<Option<Vec<String>>, Reply> {
    const FIELD: &str = "/advertising_industry_filters";
    let Some(v) = obj.get("advertising_industry_filters") else {
        return Ok(None);
    };
    let Value::Array(items) = v else {
        return Err(Reply::param_error(FIELD, Some(v), "must be an array"));
    };
    if items.len() < min || items.len() > MAX_INDUSTRY_FILTERS {
        return Err(Reply::param_error(
            FIELD,
            Some(v),
            &format!("array length must be {min} to {MAX_INDUSTRY_FILTERS}"),
        ));
    }
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            enum_value::<IndustryType>(item, &format!("{FIELD}/{i}")).map(|t| t.as_str().to_owned())
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}
