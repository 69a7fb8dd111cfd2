//! The routes people and scrapers look at: the HTML pages, badges, `/metrics` and the page's
//! own static files. Each reads a [`Board`] and hands it to a pure renderer in
//! [`crate::views`].

use super::{storage_failure, Context, Request, Response};
use crate::store::Store;
use crate::views::{badge, metrics, pages, Board, Listing};

/// A file the pages load, compiled in: the dashboard needs no CDN, font or network access.
#[derive(Debug)]
pub struct Asset {
    pub path: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

pub const ASSETS: [Asset; 4] = [
    Asset::new("/assets/app.css", CSS, include_str!("../../assets/app.css")),
    Asset::new("/assets/app.js", JS, include_str!("../../assets/app.js")),
    Asset::new(
        "/assets/theme.js",
        JS,
        include_str!("../../assets/theme.js"),
    ),
    Asset::new(
        "/favicon.svg",
        "image/svg+xml",
        include_str!("../../assets/favicon.svg"),
    ),
];

const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

impl Asset {
    const fn new(path: &'static str, content_type: &'static str, body: &'static str) -> Asset {
        Asset {
            path,
            content_type,
            body,
        }
    }
}

pub fn asset(a: &Asset) -> Response {
    Response::body(a.content_type, "public, max-age=300", a.body)
}

fn board<'a, S: Store>(ctx: &Context<'a, S>) -> Result<Board<'a>, Response> {
    Board::read(
        ctx.store,
        &ctx.layout(),
        &ctx.config.services,
        &ctx.config.maintenance,
        ctx.clock.now_ms(),
    )
    .map_err(|_| storage_failure())
}

/// The overview: the services matching `?q=`, most urgent first, `?page=` (1-based) of
/// [`crate::views::PAGE_ROWS`] rows; counts cover the whole fleet.
pub fn overview<S: Store>(ctx: &Context<'_, S>, req: &Request) -> Response {
    let page = match super::positive_param(req, "page") {
        Ok(p) => p.unwrap_or(1),
        Err(r) => return r,
    };
    let mut listing = Listing::new(&req.query_param("q").unwrap_or_default(), page);
    let board = Board::read_selected(
        ctx.store,
        &ctx.layout(),
        &ctx.config.services,
        &ctx.config.maintenance,
        ctx.clock.now_ms(),
        |glances| listing.select(glances),
    );
    match board {
        Ok(b) => Response::html(pages::overview(&b, &listing)),
        Err(_) => storage_failure(),
    }
}

fn unknown_service(id: &str) -> Response {
    Response::error(404, format!("unknown service \"{}\"", super::clip(id)))
}

pub fn service<S: Store>(ctx: &Context<'_, S>, id: &str) -> Response {
    let Some(service) = ctx.config.service(id) else {
        return unknown_service(id);
    };
    let layout = ctx.layout();
    let now = ctx.clock.now_ms();
    let read = || -> Result<String, crate::store::StoreError> {
        let board = Board::read(
            ctx.store,
            &layout,
            std::slice::from_ref(service),
            &ctx.config.maintenance,
            now,
        )?;
        let metadata = layout.metadata(ctx.store, id)?;
        let beats = layout.log(ctx.store, id)?;
        let notes = layout.notes(ctx.store, id)?;
        let log = layout
            .transition_logs(ctx.store, &[id])?
            .pop()
            .unwrap_or_default();
        let deliveries = layout.deliveries(ctx.store, id)?;
        Ok(pages::detail(
            &board.rows[0],
            now,
            metadata.as_ref(),
            &beats,
            &notes,
            &log.transitions,
            &deliveries,
        ))
    };
    match read() {
        Ok(page) => Response::html(page),
        Err(_) => storage_failure(),
    }
}

/// `/badge/{id}.svg` or `/badge/{id}.json`; `file` is the part after `/badge/`.
pub fn badge<S: Store>(ctx: &Context<'_, S>, req: &Request, file: &str) -> Response {
    let (id, json) = match (file.strip_suffix(".svg"), file.strip_suffix(".json")) {
        (Some(id), _) => (id, false),
        (_, Some(id)) => (id, true),
        _ => {
            return Response::error(404, "badges are /badge/{id}.svg or /badge/{id}.json");
        }
    };
    let Some(service) = ctx.config.service(id) else {
        return unknown_service(id);
    };
    let metric = match badge::Metric::parse(req.query_param("metric").as_deref()) {
        Ok(m) => m,
        Err(e) => return Response::error(400, e.to_string()),
    };
    let Ok(board) = Board::read(
        ctx.store,
        &ctx.layout(),
        std::slice::from_ref(service),
        &ctx.config.maintenance,
        ctx.clock.now_ms(),
    ) else {
        return storage_failure();
    };
    let b = badge::badge(&board.rows[0], metric, req.query_param("label").as_deref());
    let cache = format!("public, max-age={0}, s-maxage={0}", badge::CACHE_SECONDS);
    if json {
        let mut r = Response::json(200, &badge::shields(&b));
        r.headers.retain(|(n, _)| n != "cache-control");
        r.headers.push(("cache-control".into(), cache));
        // shields.io fetches endpoint badges from its servers; browsers may use them too.
        r.headers
            .push(("access-control-allow-origin".into(), "*".into()));
        r
    } else {
        Response::body("image/svg+xml", &cache, badge::svg(&b))
    }
}

pub fn metrics<S: Store>(ctx: &Context<'_, S>) -> Response {
    match board(ctx) {
        Ok(b) => Response::body(metrics::CONTENT_TYPE, "no-store", metrics::render(&b)),
        Err(r) => r,
    }
}
