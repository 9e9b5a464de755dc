//! Partner JSAPI payments as typed calls (PAYMENTS.md §8): prepay, the pay-sign, both
//! queries, close, and the `transaction_id` a receipt needs.

use std::time::Duration;

use super::{Client, Reply};
use crate::error::{Error, Result};
use crate::payments::{
    CloseOrderRequest, JsapiPrepayRequest, PartnerTransaction, PrepayResponse,
    QueryByOutTradeNoRequest, QueryByTransactionIdRequest, RequestPayment, ResolvedTransaction,
};

impl Client {
    /// JSAPI下单 (E1): creates the order and answers its `prepay_id`; hand that to
    /// [`Client::request_payment`] for the page.
    pub async fn jsapi_prepay(
        &self,
        request: &JsapiPrepayRequest,
    ) -> Result<Reply<PrepayResponse>> {
        self.call(request).await
    }

    /// The six values of the front-end pay-sign (PAYMENTS.md §2), signed now with a fresh
    /// nonce by the merchant key. `app_id` is explicit (§2.3):
    /// [`JsapiPrepayRequest::payment_app_id`] gives it for a prepay.
    pub async fn request_payment(&self, app_id: &str, prepay_id: &str) -> Result<RequestPayment> {
        self.request_payment_at(app_id, prepay_id, None, None).await
    }

    /// [`Client::request_payment`] with the time and nonce given (each defaults as there):
    /// what reproduces a vector. A page must never get a reused nonce.
    pub async fn request_payment_at(
        &self,
        app_id: &str,
        prepay_id: &str,
        time_stamp: Option<i64>,
        nonce_str: Option<&str>,
    ) -> Result<RequestPayment> {
        let nonce = match nonce_str {
            Some(nonce) => nonce.to_owned(),
            None => crate::sign::generate_nonce()?,
        };
        crate::payments::request_payment(
            self.settings.signer.as_ref(),
            app_id,
            prepay_id,
            time_stamp.unwrap_or_else(|| self.settings.clock.now()),
            &nonce,
        )
        .await
    }

    /// 商户订单号查询订单 (E2): the order in any state. No such order is an API error for
    /// which [`Error::is_not_found`] holds.
    pub async fn query_order_by_out_trade_no(
        &self,
        out_trade_no: &str,
        sp_mchid: &str,
        sub_mchid: &str,
    ) -> Result<Reply<PartnerTransaction>> {
        self.call(&QueryByOutTradeNoRequest {
            out_trade_no: out_trade_no.to_owned(),
            sp_mchid: sp_mchid.to_owned(),
            sub_mchid: sub_mchid.to_owned(),
        })
        .await
    }

    /// 微信支付订单号查询订单 (E3): a paid order by its `transaction_id`.
    pub async fn query_order_by_transaction_id(
        &self,
        transaction_id: &str,
        sp_mchid: &str,
        sub_mchid: &str,
    ) -> Result<Reply<PartnerTransaction>> {
        self.call(&QueryByTransactionIdRequest {
            transaction_id: transaction_id.to_owned(),
            sp_mchid: sp_mchid.to_owned(),
            sub_mchid: sub_mchid.to_owned(),
        })
        .await
    }

    /// 关闭订单 (E4): closes an unpaid order.
    pub async fn close_order(
        &self,
        out_trade_no: &str,
        sp_mchid: &str,
        sub_mchid: &str,
    ) -> Result<Reply<()>> {
        let reply = self
            .call(&CloseOrderRequest {
                out_trade_no: out_trade_no.to_owned(),
                sp_mchid: sp_mchid.to_owned(),
                sub_mchid: sub_mchid.to_owned(),
            })
            .await?;
        Ok(Reply {
            data: (),
            request_id: reply.request_id,
        })
    }

    /// The `transaction_id` of a receipt's order (PAYMENTS.md §6.1 step 3), by one E2 query of
    /// this provider's order within `timeout`: `None` inside when the order is unknown or not
    /// paid (show the official page). A store of ids from payment notifications should be
    /// asked first; this is what to do when it has none yet.
    pub async fn resolve_transaction_id(
        &self,
        sub_mch_id: &str,
        out_trade_no: &str,
        timeout: Duration,
    ) -> Result<ResolvedTransaction> {
        if sub_mch_id.is_empty()
            || sub_mch_id.len() > crate::payments::MAX_ID_LEN
            || !sub_mch_id.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(Error::InvalidInput(format!(
                "sub_mch_id must be 1 to 32 digits, got {}",
                crate::redact::Rejected(sub_mch_id)
            )));
        }
        let query = self.query_order_by_out_trade_no(out_trade_no, self.mchid(), sub_mch_id);
        let answer = tokio::time::timeout(timeout, query).await.map_err(|_| {
            Error::Timeout(format!(
                "the order query took longer than {} ms",
                timeout.as_millis()
            ))
        })?;
        match answer {
            Ok(reply) => {
                let t = reply.data;
                let transaction_id = t
                    .transaction_id
                    .filter(|id| !id.is_empty() && t.trade_state.is_paid());
                Ok(ResolvedTransaction {
                    transaction_id,
                    trade_state: Some(t.trade_state),
                })
            }
            Err(e) if e.is_not_found() => Ok(ResolvedTransaction {
                transaction_id: None,
                trade_state: None,
            }),
            Err(e) => Err(e),
        }
    }
}
