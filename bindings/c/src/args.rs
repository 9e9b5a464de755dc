//! The arguments object of a typed client function (`operations.rs`, generated from the
//! registry), built from C parameters: the typed functions only shape C values as JSON, and the
//! core checks them (which values are allowed, in which case, how long) exactly as it does for
//! `goldplan_client_call`, so no rule is written twice.

use std::os::raw::c_char;

use goldplan::Error;
use goldplan::client::{JsonReply, Operation};
use serde_json::{Map, Value};

use crate::client::{GoldplanResponse, block_on, core_client, write_response};
use crate::error::FfiResult;
use crate::memory::{bytes_arg, str_arg};

/// A JSON arguments object under construction; absent optional parameters are left out, as
/// the registry's JSON surface wants (never sent as `null`).
#[derive(Default)]
pub(crate) struct Arguments {
    map: Map<String, Value>,
}

impl Arguments {
    /// An empty object.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A required text parameter.
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes (or be NULL, which is refused).
    pub(crate) unsafe fn text(
        &mut self,
        name: &'static str,
        ptr: *const c_char,
        len: usize,
    ) -> FfiResult<()> {
        // SAFETY: forwarded contract.
        let text = unsafe { str_arg(ptr, len, name) }?;
        self.map.insert(name.into(), Value::from(text));
        Ok(())
    }

    /// An optional text parameter: NULL means absent.
    ///
    /// # Safety
    /// `ptr` must be NULL or point to `len` readable bytes.
    pub(crate) unsafe fn optional_text(
        &mut self,
        name: &'static str,
        ptr: *const c_char,
        len: usize,
    ) -> FfiResult<()> {
        if ptr.is_null() {
            return Ok(());
        }
        // SAFETY: forwarded contract.
        unsafe { self.text(name, ptr, len) }
    }

    /// A required list of texts: `count` strings, string `i` at `items[i]` with
    /// `lens[i]` bytes. `items` and `lens` may be NULL only when `count` is 0.
    ///
    /// # Safety
    /// `items` and `lens` must each point to `count` readable elements, and each item to its
    /// length of readable bytes.
    pub(crate) unsafe fn text_list(
        &mut self,
        name: &'static str,
        items: *const *const c_char,
        lens: *const usize,
        count: usize,
    ) -> FfiResult<()> {
        let mut list = Vec::with_capacity(count);
        if count > 0 {
            if items.is_null() || lens.is_null() {
                return Err(Error::InvalidInput(format!(
                    "{name}: the item and length arrays must not be NULL when the count is not 0"
                ))
                .into());
            }
            // SAFETY: caller's contract: both arrays hold `count` elements.
            let (items, lens) = unsafe {
                (
                    std::slice::from_raw_parts(items, count),
                    std::slice::from_raw_parts(lens, count),
                )
            };
            for (item, len) in items.iter().zip(lens) {
                // SAFETY: caller's contract for each item.
                let text = unsafe { str_arg(*item, *len, name) }?;
                list.push(Value::from(text));
            }
        }
        self.map.insert(name.into(), Value::Array(list));
        Ok(())
    }

    /// An optional list of texts: `items` NULL means absent (a non-NULL `items` with `count`
    /// 0 is an empty list).
    ///
    /// # Safety
    /// As [`Arguments::text_list`] when `items` is not NULL.
    pub(crate) unsafe fn optional_text_list(
        &mut self,
        name: &'static str,
        items: *const *const c_char,
        lens: *const usize,
        count: usize,
    ) -> FfiResult<()> {
        if items.is_null() {
            return Ok(());
        }
        // SAFETY: forwarded contract.
        unsafe { self.text_list(name, items, lens, count) }
    }

    /// A required flag.
    pub(crate) fn flag(&mut self, name: &'static str, value: bool) {
        self.map.insert(name.into(), Value::Bool(value));
    }

    /// An optional flag: NULL means absent.
    ///
    /// # Safety
    /// `value` must be NULL or readable.
    pub(crate) unsafe fn optional_flag(&mut self, name: &'static str, value: *const bool) {
        // SAFETY: caller's contract.
        if let Some(value) = unsafe { value.as_ref() } {
            self.flag(name, *value);
        }
    }

    /// A required whole number.
    pub(crate) fn integer(&mut self, name: &'static str, value: i64) {
        self.map.insert(name.into(), Value::from(value));
    }

    /// An optional whole number: NULL means absent.
    ///
    /// The generator calls it for an operation with an optional integer; none has one yet.
    ///
    /// # Safety
    /// `value` must be NULL or readable.
    #[allow(dead_code)]
    pub(crate) unsafe fn optional_integer(&mut self, name: &'static str, value: *const i64) {
        // SAFETY: caller's contract.
        if let Some(value) = unsafe { value.as_ref() } {
            self.integer(name, *value);
        }
    }

    /// A required JSON parameter, given as JSON text.
    ///
    /// # Safety
    /// `ptr` must point to `len` readable bytes (or be NULL, which is refused).
    pub(crate) unsafe fn json(
        &mut self,
        name: &'static str,
        ptr: *const c_char,
        len: usize,
    ) -> FfiResult<()> {
        // SAFETY: forwarded contract.
        let bytes = unsafe { bytes_arg(ptr.cast::<u8>(), len, name) }?;
        // A syntax error from serde never quotes the input (only tokens), so the message can
        // be shown as is even when the JSON carries something sensitive.
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::InvalidInput(format!("{name} is not JSON: {e}")))?;
        self.map.insert(name.into(), value);
        Ok(())
    }

    /// An optional JSON parameter: NULL means absent.
    ///
    /// # Safety
    /// `ptr` must be NULL or point to `len` readable bytes.
    pub(crate) unsafe fn optional_json(
        &mut self,
        name: &'static str,
        ptr: *const c_char,
        len: usize,
    ) -> FfiResult<()> {
        if ptr.is_null() {
            return Ok(());
        }
        // SAFETY: forwarded contract.
        unsafe { self.json(name, ptr, len) }
    }

    /// Runs `operation` with these arguments on `client`, the path of `goldplan_client_call`,
    /// and hands out the result.
    ///
    /// # Safety
    /// `out` must come from `out_arg`.
    pub(crate) unsafe fn call(
        self,
        client: *const crate::client::GoldplanClient,
        operation: Operation,
        out: *mut *mut GoldplanResponse,
    ) -> FfiResult<()> {
        let args = serde_json::to_vec(&Value::Object(self.map))
            .map_err(|e| Error::Internal(format!("cannot encode the arguments: {e}")))?;
        let client = core_client(client)?;
        let JsonReply { json, request_id } =
            block_on(async { client.call_json(operation, &args).await })??;
        // SAFETY: forwarded contract.
        unsafe { write_response(out, json, request_id) }
    }

    /// Runs the registry helper `operation` (no client) with these arguments and returns its
    /// JSON result.
    pub(crate) fn call_local(self, operation: Operation) -> FfiResult<Value> {
        let args = serde_json::to_vec(&Value::Object(self.map))
            .map_err(|e| Error::Internal(format!("cannot encode the arguments: {e}")))?;
        let json = goldplan::client::call_local_json(operation, &args)?;
        Ok(serde_json::from_slice(&json)
            .map_err(|e| Error::Internal(format!("a helper answered something not JSON: {e}")))?)
    }

    /// Adds an already built value (hand-written wrappers that convert a C shape first).
    pub(crate) fn value(&mut self, name: &'static str, value: Value) {
        self.map.insert(name.into(), value);
    }
}
