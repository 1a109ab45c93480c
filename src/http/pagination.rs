//! `?page=&per_page=` parameters and the `{items, page, per_page, total}` envelope.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::error::{ApiError, FieldError};
use crate::db::page::{PageRequest, Paged};

/// Largest page a client may ask for.
pub const MAX_PER_PAGE: u32 = 100;
/// Highest page number: deeper offsets would scan millions of rows (use the filters).
pub const MAX_PAGE: u32 = 100_000;
const DEFAULT_PER_PAGE: u32 = 20;

/// Pagination query parameters.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1-based page number (default 1).
    #[param(minimum = 1, maximum = 100000)]
    pub page: Option<u32>,
    /// Items per page, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub per_page: Option<u32>,
}

impl PageQuery {
    /// Validates the parameters.
    pub fn parse(self) -> Result<PageRequest, ApiError> {
        let mut errors = Vec::new();
        let page = self.page.unwrap_or(1);
        if !(1..=MAX_PAGE).contains(&page) {
            errors.push(FieldError::new(
                "page",
                "OUT_OF_RANGE",
                format!("page must be between 1 and {MAX_PAGE}"),
            ));
        }
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            errors.push(FieldError::new(
                "per_page",
                "OUT_OF_RANGE",
                format!("per_page must be between 1 and {MAX_PER_PAGE}"),
            ));
        }
        if errors.is_empty() {
            Ok(PageRequest { page, per_page })
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageView<T> {
    /// Items of this page.
    pub items: Vec<T>,
    /// Page number.
    pub page: u32,
    /// Page size.
    pub per_page: u32,
    /// Items over all pages.
    pub total: i64,
}

impl<T> PageView<T> {
    /// Wraps a paged result.
    pub fn new(paged: Paged<T>, request: PageRequest) -> Self {
        Self {
            items: paged.items,
            page: request.page,
            per_page: request.per_page,
            total: paged.total,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_bounds() {
        let ok = PageQuery {
            page: Some(2),
            per_page: Some(100),
        }
        .parse()
        .unwrap();
        assert_eq!((ok.page, ok.per_page, ok.offset()), (2, 100, 100));
        assert_eq!(PageQuery::default().parse().unwrap().per_page, 20);
        for (page, per_page, field) in [
            (Some(0), None, "page"),
            (None, Some(0), "per_page"),
            (None, Some(101), "per_page"),
        ] {
            match (PageQuery { page, per_page }).parse() {
                Err(ApiError::Validation(errors)) => assert_eq!(errors[0].field, field),
                other => panic!("expected a validation error, got {other:?}"),
            }
        }
    }
}
