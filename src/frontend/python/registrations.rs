//! Handlers registered by calls rather than decorators: `app.add_url_rule(.., view_func=f)`,
//! aiohttp's `web.get("/", handler)` and `router.add_get`, Starlette's `Route("/", endpoint)`,
//! and lifespan or startup hooks passed to an application (`FastAPI(lifespan=lifespan)`).

use ruff_python_ast::{Arguments, Expr};

use super::ir::MarkKind;
use super::lower::{Lowerer, NameRes};
use crate::model::Entry;

/// Looks at a call of `path` (method `method`) for handler registrations.
pub fn check(l: &mut Lowerer<'_>, path: &str, method: Option<&str>, args: &Arguments) {
    for kw in args.keywords.iter() {
        let Some(arg) = &kw.arg else { continue };
        match arg.id.as_str() {
            "lifespan" => hook(l, &kw.value, "lifespan hook on the server loop"),
            "on_startup" | "on_shutdown" => {
                if let Expr::List(list) = &kw.value {
                    for e in &list.elts {
                        hook(l, e, "startup or shutdown hook on the server loop");
                    }
                }
            }
            _ => {}
        }
    }
    let handler = match (path, method) {
        (_, Some("add_url_rule")) => keyword(args, "view_func")
            .or_else(|| args.args.get(2))
            .map(|e| (e, "Flask route handler")),
        ("aiohttp.web.route", _) => args.args.get(2).map(|e| (e, "aiohttp handler")),
        (
            "aiohttp.web.get" | "aiohttp.web.post" | "aiohttp.web.put" | "aiohttp.web.delete"
            | "aiohttp.web.patch" | "aiohttp.web.head" | "aiohttp.web.view",
            _,
        ) => args.args.get(1).map(|e| (e, "aiohttp handler")),
        (_, Some("add_route")) => args.args.get(2).map(|e| (e, "aiohttp handler")),
        (
            _,
            Some(
                "add_get" | "add_post" | "add_put" | "add_delete" | "add_patch" | "add_head"
                | "add_view",
            ),
        ) => args.args.get(1).map(|e| (e, "aiohttp handler")),
        (
            "starlette.routing.Route"
            | "starlette.routing.WebSocketRoute"
            | "fastapi.routing.APIRoute",
            _,
        )
        | (_, Some("add_api_route" | "add_websocket_route")) => keyword(args, "endpoint")
            .or_else(|| args.args.get(1))
            .map(|e| (e, "Starlette endpoint")),
        _ => None,
    };
    if let Some((e, what)) = handler
        && let Some(p) = handler_path(l, e)
    {
        l.mark(p, MarkKind::Handler(what.to_string()));
    }
}

fn keyword<'a>(args: &'a Arguments, name: &str) -> Option<&'a Expr> {
    args.keywords
        .iter()
        .find(|k| k.arg.as_ref().is_some_and(|a| a.id.as_str() == name))
        .map(|k| &k.value)
}

fn hook(l: &mut Lowerer<'_>, e: &Expr, what: &str) {
    if let Some(p) = handler_path(l, e) {
        l.mark(
            p,
            MarkKind::Entry(Entry::ServerAsync {
                what: what.to_string(),
                requests: false,
                test_loop: None,
            }),
        );
    }
}

fn handler_path(l: &Lowerer<'_>, e: &Expr) -> Option<String> {
    if let Expr::Name(n) = e {
        if let NameRes::Path(p) = l.resolve_name(n.id.as_str()) {
            return l.is_project_path(&p).then(|| p.to_string());
        }
        return None;
    }
    l.qualify(e).filter(|p| l.is_project_path(p))
}
