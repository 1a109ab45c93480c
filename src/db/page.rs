//! Page requests and paged results for list endpoints.

/// A validated page request (page ≥ 1, 1 ≤ per_page ≤ 100).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u32,
    /// Items per page.
    pub per_page: u32,
}

impl PageRequest {
    /// SQL LIMIT.
    pub fn limit(self) -> i64 {
        i64::from(self.per_page)
    }
    /// SQL OFFSET.
    pub fn offset(self) -> i64 {
        i64::from(self.page - 1) * i64::from(self.per_page)
    }
}

/// One page of items and the total count over all pages.
#[derive(Debug, Clone)]
pub struct Paged<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Items over all pages.
    pub total: i64,
}
