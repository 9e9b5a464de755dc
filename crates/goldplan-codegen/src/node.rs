//! The node binding's generated regions.

use crate::{Op, Output};

pub(crate) fn outputs(_ops: &[Op]) -> Vec<Output> {
    Vec::new()
}
