//! Lowering of one parsed file into the file-level IR ([`FileIr`]): functions, nested bodies,
//! tracked variables, statics and events, with references to other files left symbolic.
//!
//! Two passes over the items: the first collects the names of every module scope (items,
//! `use` imports, `mod` declarations) so that paths resolve whatever the declaration order;
//! the second lowers bodies. Recursion over expressions is bounded by [`MAX_DEPTH`].

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;

use proc_macro2::Span as PSpan;
use syn::punctuated::Punctuated;
use syn::{Block, Expr, Item, Local, Pat, Stmt, Type};

mod aliases;
mod asserts;
mod calls;
mod completion;
mod drops;
mod flow;
mod format_calls;

pub(crate) use calls::is_common_method;
mod items;
mod typing;

use super::ir::{FEvent, FKind, FileIr, FnIr, ModuleIr, SymPath, Target, TypeRef, VarIr};
use super::kbview::KbView;
use super::macros::{self, MacroBody};
use super::resolve::{Res, Resolver, ScopeMap, flatten_use};
use super::spans;
use super::types::{self, path_segs};
use crate::model::{
    CondId, Drivers, EventKind, FactKind, FileId, Flavor, FnId, FnKind, HandleFate, Place,
    ResourceRef, RunKind, RuntimeRef, Span, StorageKind, VarId, VarKind, WaitKind,
};

/// Deepest expression nesting the lowering descends into.
pub const MAX_DEPTH: u32 = 160;

/// What a file's lowering needs to know about its surroundings.
pub struct FileCtx<'a> {
    /// The knowledge base.
    pub kb: &'a KbView<'a>,
    /// Program-local file id.
    pub file: FileId,
    /// Crate names of the program visible to the file's package.
    pub crates: &'a [(String, u32)],
    /// Bytes stripped before parsing (a byte-order mark).
    pub bom: u32,
    /// The parsed text (after the byte-order mark).
    pub text: &'a str,
    /// Byte offsets of line starts, and whether the text is ASCII (line and column then give
    /// byte offsets directly).
    pub lines: (Vec<u32>, bool),
    /// Library types of values whose type only linking tells (see [`ir::TypeHints`]).
    pub hints: Option<&'a crate::frontend::rust::ir::TypeHints>,
}

impl FileCtx<'_> {
    /// Line starts of `text`, and whether it is ASCII.
    pub fn lines(text: &str) -> (Vec<u32>, bool) {
        let mut starts = vec![0u32];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i as u32 + 1));
        (starts, text.is_ascii())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PendKind {
    RuntimeNew,
    HandleOf,
    Create,
    Spawn,
    Call,
}

/// An event whose variable slot is filled when the value is bound by `let`.
#[derive(Clone, Copy, Debug)]
struct Pending {
    f: u32,
    ev: u32,
    kind: PendKind,
}

#[derive(Clone, Debug, Default)]
enum Origin {
    #[default]
    None,
    /// A tracked variable.
    Var(u32),
    /// A runtime built in place and not bound.
    Unbound(Flavor),
    /// A handle to a runtime.
    Handle(RuntimeRef),
    /// A runtime builder chain (flavor, span of the chain start, and the drivers turned on so
    /// far when the chain is seen from its start).
    Builder(Flavor, Span, Option<Drivers>),
    /// A nested body (closure or async block).
    Body(u32),
    /// A static.
    Static(Arc<Target>),
}

impl Origin {
    /// The same origin, with a builder chain's drivers unknown: a builder kept in a variable,
    /// or passed through a method the knowledge base does not list, may have drivers turned on
    /// where the chain does not show (`b.enable_all();`, `enable_alt_timer`).
    fn forget_drivers(self) -> Origin {
        match self {
            Origin::Builder(f, s, _) => Origin::Builder(f, s, None),
            o => o,
        }
    }
}

/// What lowering knows about the value of an expression.
#[derive(Clone, Debug, Default)]
struct Val {
    ty: TypeRef,
    origin: Origin,
    pend: Vec<Pending>,
    /// Inside a builder chain: methods keep the pending events.
    chain: bool,
    /// The value is the owned local with this drop slot (a bare path to it).
    local: Option<u32>,
    /// The place holding the value, for flow facts.
    place: Option<Place>,
    /// The value was moved out of this place (`slot.take()`), at this span.
    moved_from: Option<(Place, Span)>,
    /// The value is a static's, read by this event (local fn, event index): a read that the
    /// body only hands back to its caller is no use of the static.
    read: Option<(u32, u32)>,
    /// The value is a field of the value in this place (`x.f`: the place of `x`).
    owner: Option<Place>,
    /// The value is a handle (or a builder of handles) put in non-blocking mode: its calls
    /// return without waiting (`set_nonblocking(true)`, `custom_flags(O_NONBLOCK)`).
    nonblocking: bool,
}

#[derive(Clone, Debug)]
struct Binding {
    name: String,
    ty: TypeRef,
    origin: Origin,
    /// Drop slot of a local that owns a value of a (maybe) package type.
    slot: Option<u32>,
    /// A parameter of the named function the binding belongs to.
    param: bool,
    /// The place holding the value, for flow facts.
    place: Option<Place>,
    /// The local holds a handle (or builder) in non-blocking mode: see `Val::nonblocking`.
    nonblocking: bool,
    /// The static read (local fn, event index) whose value a pattern binds
    /// (`if let Some(c) = CLIENT.get()`): handing the binding back is no use of the static.
    read: Option<(u32, u32)>,
    /// The expression a `let` binds the local to (`let res = l.accept().await;`).
    init: Option<Span>,
    /// How often an untracked local is read other than to store into it or look at it
    /// (`v.push(x)`, `v.len()`): a container that join handles are put into later was read
    /// before, which may wait for them on a later turn of a loop.
    mentions: u32,
}

/// An owned local whose value is dropped where it dies, unless it is moved away first.
#[derive(Clone, Debug)]
struct Slot {
    ty: TypeRef,
    /// Where the local was bound (`let pool = ..`), when known.
    at: Option<Span>,
    moved: bool,
    /// Method calls on it, as (local fn, event index).
    moves: Vec<(u32, u32)>,
}

#[derive(Default)]
struct Scope {
    bindings: Vec<Binding>,
    items: Vec<(String, Res)>,
    uses: Vec<(String, Vec<String>)>,
    owned: Vec<u32>,
    /// Drop slots of the locals the scope owns, in binding order.
    drops: Vec<u32>,
}

struct FnState {
    id: u32,
    loop_depth: u16,
    /// The branch of the body being lowered ([`FnIr::regions`]).
    region: u32,
    scopes: Vec<Scope>,
    boundary: bool,
    is_move: bool,
    moved: Vec<u32>,
    /// Runtimes built in place and never bound, whose handle the current statement takes
    /// (`Runtime::new().unwrap().handle().clone()`): they die at the end of the statement.
    temp_runtimes: Vec<Place>,
}

impl FnState {
    fn new(id: u32, boundary: bool, is_move: bool) -> Self {
        FnState {
            id,
            loop_depth: 0,
            region: 0,
            scopes: vec![Scope::default()],
            boundary,
            is_move,
            moved: Vec::new(),
            temp_runtimes: Vec::new(),
        }
    }
}

struct ImplCtx {
    self_ty: Option<Arc<SymPath>>,
}

const ESCAPED: u8 = 1;
const CLOSED: u8 = 2;

fn strip(mut e: &Expr) -> &Expr {
    for _ in 0..32 {
        match e {
            Expr::Paren(p) => e = &p.expr,
            Expr::Group(g) => e = &g.expr,
            _ => break,
        }
    }
    e
}

struct Exits {
    loops: u32,
    found: bool,
}

impl<'ast> syn::visit::Visit<'ast> for Exits {
    fn visit_expr_break(&mut self, b: &'ast syn::ExprBreak) {
        if self.loops == 0 || b.label.is_some() {
            self.found = true;
        }
    }
    fn visit_expr_return(&mut self, _: &'ast syn::ExprReturn) {
        self.found = true;
    }
    fn visit_expr_try(&mut self, _: &'ast syn::ExprTry) {
        self.found = true;
    }
    fn visit_expr_loop(&mut self, l: &'ast syn::ExprLoop) {
        self.loops += 1;
        syn::visit::visit_expr_loop(self, l);
        self.loops -= 1;
    }
    fn visit_expr_while(&mut self, w: &'ast syn::ExprWhile) {
        self.loops += 1;
        syn::visit::visit_expr_while(self, w);
        self.loops -= 1;
    }
    fn visit_expr_for_loop(&mut self, f: &'ast syn::ExprForLoop) {
        self.loops += 1;
        syn::visit::visit_expr_for_loop(self, f);
        self.loops -= 1;
    }
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_expr_async(&mut self, _: &'ast syn::ExprAsync) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// Whether a body ends in an infinite `loop` with no `break`, `return` or `?` out of it.
fn diverges(e: &Expr) -> bool {
    match strip(e) {
        Expr::Loop(l) => {
            let mut x = Exits {
                loops: 0,
                found: false,
            };
            syn::visit::Visit::visit_block(&mut x, &l.body);
            !x.found
        }
        Expr::Block(b) => block_diverges(&b.block),
        _ => false,
    }
}

/// Whether a block's last statement is an infinite loop with no way out.
fn block_diverges(b: &Block) -> bool {
    match b.stmts.last() {
        Some(Stmt::Expr(e, _)) => diverges(e),
        _ => false,
    }
}

fn parent_path(path: &str) -> Option<&str> {
    path.rfind("::").map(|i| &path[..i])
}

fn last_seg(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

fn is_type_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
}

/// Whether `e` is a range of integer literals with nothing in it (`0..0`, `3..=1`) or an
/// empty array literal.
fn empty_literal_range(e: &Expr) -> bool {
    let int = |e: &Option<Box<Expr>>| -> Option<u128> {
        match e.as_deref().map(strip)? {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(i),
                ..
            }) => i.base10_parse::<u128>().ok(),
            _ => None,
        }
    };
    match strip(e) {
        Expr::Range(r) => match (int(&r.start), int(&r.end)) {
            (Some(a), Some(b)) => match r.limits {
                syn::RangeLimits::HalfOpen(_) => a >= b,
                syn::RangeLimits::Closed(_) => a > b,
            },
            _ => false,
        },
        Expr::Array(a) => a.elems.is_empty(),
        _ => false,
    }
}

/// Whether `e` is a literal zero `Duration`: `Duration::ZERO`, `Duration::from_secs(0)` (any
/// unit), `Duration::new(0, 0)`.
fn is_zero_duration(e: &Expr) -> bool {
    let zero = |e: &Expr| match strip(e) {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse::<u128>().ok() == Some(0),
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Float(f),
            ..
        }) => f.base10_parse::<f64>().ok() == Some(0.0),
        _ => false,
    };
    let last = |p: &syn::Path| p.segments.last().map(|s| s.ident.to_string());
    match strip(e) {
        Expr::Path(p) => last(&p.path).as_deref() == Some("ZERO"),
        Expr::Call(c) => {
            let Expr::Path(f) = strip(&c.func) else {
                return false;
            };
            let name = last(&f.path).unwrap_or_default();
            (name.starts_with("from_") || name == "new") && c.args.iter().all(zero)
        }
        _ => false,
    }
}

/// Whether a path's last segment names a unit struct or variant rather than a static: a type
/// name in camel case (`Nightly`, not `HANDLE`).
fn is_unit_value_name(s: &str) -> bool {
    is_type_name(s) && s.contains(|c: char| c.is_ascii_lowercase())
}

/// Whether an expression is an `.await` (seen through `?`).
fn is_await(e: &Expr) -> bool {
    match strip(e) {
        Expr::Await(_) => true,
        Expr::Try(t) => is_await(&t.expr),
        _ => false,
    }
}

/// Whether `e` is a call, or a method chain on one, that awaits nothing on the way: its value
/// is what the call returned (`start()`, `start().unwrap()`), not what a future gave.
fn unawaited_call(e: &Expr) -> bool {
    match strip(e) {
        Expr::Call(_) => true,
        Expr::MethodCall(m) => match strip(&m.receiver) {
            Expr::Path(_) => true,
            r => unawaited_call(r),
        },
        Expr::Try(t) => unawaited_call(&t.expr),
        _ => false,
    }
}

/// A `match` or `if let` on an awaited value with an arm or `else` that leaves the loop.
fn exits_on_await(e: &Expr) -> bool {
    match strip(e) {
        Expr::Match(m) => is_await(&m.expr) && m.arms.iter().any(|a| breaks(&a.body)),
        Expr::If(i) => match strip(&i.cond) {
            Expr::Let(c) => {
                is_await(&c.expr) && i.else_branch.as_ref().is_some_and(|(_, e)| breaks(e))
            }
            _ => false,
        },
        _ => false,
    }
}

/// Whether a match arm or `else` branch leaves the loop: `break`, or a block ending in one.
fn breaks(e: &Expr) -> bool {
    match strip(e) {
        Expr::Break(_) | Expr::Return(_) => true,
        Expr::Block(b) => b
            .block
            .stmts
            .last()
            .is_some_and(|st| matches!(st, Stmt::Expr(e, _) if breaks(e))),
        _ => false,
    }
}

/// The attributes of a statement that a `#[cfg]` may sit on.
fn stmt_attrs(stmt: &Stmt) -> &[syn::Attribute] {
    match stmt {
        Stmt::Local(l) => &l.attrs,
        Stmt::Macro(m) => &m.attrs,
        Stmt::Item(_) => &[],
        Stmt::Expr(e, _) => expr_attrs(e),
    }
}

/// The outer attributes of an expression statement (`#[cfg(..)] call();`, `#[cfg(..)] { .. }`).
fn expr_attrs(e: &Expr) -> &[syn::Attribute] {
    match e {
        Expr::Array(x) => &x.attrs,
        Expr::Assign(x) => &x.attrs,
        Expr::Async(x) => &x.attrs,
        Expr::Await(x) => &x.attrs,
        Expr::Binary(x) => &x.attrs,
        Expr::Block(x) => &x.attrs,
        Expr::Break(x) => &x.attrs,
        Expr::Call(x) => &x.attrs,
        Expr::Cast(x) => &x.attrs,
        Expr::Closure(x) => &x.attrs,
        Expr::Const(x) => &x.attrs,
        Expr::Continue(x) => &x.attrs,
        Expr::Field(x) => &x.attrs,
        Expr::ForLoop(x) => &x.attrs,
        Expr::Group(x) => &x.attrs,
        Expr::If(x) => &x.attrs,
        Expr::Index(x) => &x.attrs,
        Expr::Let(x) => &x.attrs,
        Expr::Lit(x) => &x.attrs,
        Expr::Loop(x) => &x.attrs,
        Expr::Macro(x) => &x.attrs,
        Expr::Match(x) => &x.attrs,
        Expr::MethodCall(x) => &x.attrs,
        Expr::Paren(x) => &x.attrs,
        Expr::Path(x) => &x.attrs,
        Expr::Range(x) => &x.attrs,
        Expr::Reference(x) => &x.attrs,
        Expr::Repeat(x) => &x.attrs,
        Expr::Return(x) => &x.attrs,
        Expr::Struct(x) => &x.attrs,
        Expr::Try(x) => &x.attrs,
        Expr::TryBlock(x) => &x.attrs,
        Expr::Tuple(x) => &x.attrs,
        Expr::Unary(x) => &x.attrs,
        Expr::Unsafe(x) => &x.attrs,
        Expr::While(x) => &x.attrs,
        Expr::Yield(x) => &x.attrs,
        _ => &[],
    }
}

/// Lowers one parsed file.
pub fn lower_file(cx: &FileCtx<'_>, file: &syn::File) -> FileIr {
    let mut l = Lowerer {
        cx,
        arg_api: String::new(),
        generic_traits: Vec::new(),
        ir: FileIr::default(),
        maps: Vec::new(),
        stack: Vec::new(),
        depth: 0,
        scope: 0,
        cfg_test: false,
        when: CondId::TRUE,
        imp: None,
        var_flags: Vec::new(),
        ids: HashMap::default(),
        struct_fields: HashMap::default(),
        raw_uses: Vec::new(),
        raw_globs: Vec::new(),
        inspect_only: false,
        borrowing: false,
        slots: Vec::new(),
        arg_target: None,
        pat_place: None,
        owner_at: None,
        pat_read: None,
        api_events_from: None,
        channels: Vec::new(),
        channel_places: Vec::new(),
        sending: None,
        completions: Vec::new(),
        clones: Vec::new(),
        aliases: aliases::Aliases::default(),
    };
    l.ir.modules.push(ModuleIr::default());
    l.maps.push(ScopeMap::default());
    let mut structs = Vec::new();
    l.collect(&file.items, 0, &mut structs, 0);
    l.finish_scopes();
    l.finish_aliases();
    for (s, scope, idx) in structs {
        l.record_struct(s, scope, idx);
    }
    l.lower_items(&file.items, 0, 0);
    l.ir
}

enum StructLike<'ast> {
    Struct(&'ast syn::ItemStruct),
    Enum(&'ast syn::ItemEnum),
}

struct Lowerer<'a, 'c> {
    cx: &'c FileCtx<'a>,
    /// Name of the function or method whose arguments are being lowered; closures passed
    /// to it are recorded as run inline by that name.
    arg_api: String,
    /// Type parameters of the function being lowered that a package trait bounds, with it.
    generic_traits: Vec<(String, Res)>,
    ir: FileIr,
    maps: Vec<ScopeMap>,
    stack: Vec<FnState>,
    depth: u32,
    scope: u32,
    cfg_test: bool,
    /// Build condition of the code being lowered: its module, item and statement `cfg`s.
    when: CondId,
    imp: Option<ImplCtx>,
    var_flags: Vec<u8>,
    /// Ids assigned in the first pass, by item address (and index inside a macro).
    ids: HashMap<(usize, u32), u32>,
    struct_fields: HashMap<(u32, String), Vec<(String, TypeRef)>>,
    raw_uses: Vec<(u32, String, Vec<String>)>,
    raw_globs: Vec<(u32, Vec<String>)>,
    /// The next variable read only inspects the value (`handle.is_finished()`).
    inspect_only: bool,
    /// The next local read borrows the value rather than moving it (`x.m()`, `&x`, `x.f`).
    borrowing: bool,
    /// Drop slots of owned locals.
    slots: Vec<Slot>,
    /// The package function whose arguments are being lowered.
    arg_target: Option<Target>,
    /// Where the events of the last knowledge-base call begin, after those of its arguments:
    /// (body, event index).
    api_events_from: Option<(u32, u32)>,
    /// Channels bound by `let (tx, rx) = ..channel()`: (sender name, receiver name).
    channels: Vec<(String, String)>,
    /// Spawns whose task ends by sending on a sender: (sender name, body, `Run` event index).
    completions: Vec<(String, u32, u32, bool)>,
    /// Locals bound to a clone of another (`let s = sem.clone();`), as (clone, original).
    clones: Vec<(String, String)>,
    /// The place of the value a pattern being bound destructures.
    pat_place: Option<Place>,
    /// Where the local being bound is bound (see `bind_owned_at`), for its drop slot.
    owner_at: Option<Span>,
    /// The static read whose value a pattern being bound destructures.
    pat_read: Option<(u32, u32)>,
    /// The places standing for the messages of the channels this file makes (both halves of
    /// `let (tx, rx) = channel()` hold it): a value sent goes there, a value received comes
    /// from there.
    channel_places: Vec<(Place, crate::frontend::rust::kbview::ChannelFamily)>,
    /// The channel place the next argument lowered is sent into (`tx.send(v)`).
    sending: Option<Place>,
    /// The file's type aliases.
    aliases: aliases::Aliases,
}

fn key<T>(item: &T, sub: u32) -> (usize, u32) {
    (item as *const T as usize, sub)
}

impl<'a, 'c> Lowerer<'a, 'c> {
    // ----------------------------------------------------------------- spans and events

    /// Byte offset of a line and column (the column counts characters).
    fn offset(&self, lc: proc_macro2::LineColumn) -> Option<u32> {
        let (lines, ascii) = &self.cx.lines;
        let start = *lines.get(lc.line.checked_sub(1)?)?;
        if *ascii {
            return Some(start + lc.column as u32);
        }
        let rest = self.cx.text.get(start as usize..)?;
        let within = match rest.char_indices().nth(lc.column) {
            Some((i, _)) => i,
            None => rest.len(),
        };
        Some(start + within as u32)
    }

    fn sp(&self, s: PSpan) -> Span {
        let bom = self.cx.bom;
        if let (Some(a), Some(b)) = (self.offset(s.start()), self.offset(s.end())) {
            return Span::new(self.cx.file, a + bom, b + bom);
        }
        let r = s.byte_range();
        Span::new(self.cx.file, r.start as u32 + bom, r.end as u32 + bom)
    }

    /// The span of an identifier: its start, plus its length (one source-map query).
    fn sp_ident(&self, id: &syn::Ident, len: usize) -> Span {
        let bom = self.cx.bom;
        match self.offset(id.span().start()) {
            Some(a) => Span::new(self.cx.file, a + bom, a + bom + len as u32),
            None => self.sp(id.span()),
        }
    }

    fn sp2(&self, a: PSpan, b: PSpan) -> Span {
        let (a, b) = (self.sp(a), self.sp(b));
        Span::new(self.cx.file, a.start, b.end)
    }

    fn join(&self, a: Span, b: Span) -> Span {
        Span::new(self.cx.file, a.start.min(b.start), b.end.max(a.end))
    }

    fn emit(&mut self, span: Span, kind: FKind) -> Option<(u32, u32)> {
        let st = self.stack.last()?;
        let (f, loop_depth, region) = (st.id, st.loop_depth, st.region);
        let events = &mut self.ir.fns[f as usize].events;
        events.push(FEvent {
            span,
            loop_depth,
            kind,
            when: self.when,
            region,
        });
        Some((f, events.len() as u32 - 1))
    }

    fn emit_model(&mut self, span: Span, kind: EventKind) -> Option<(u32, u32)> {
        self.emit(span, FKind::Model(kind))
    }

    fn pend(&mut self, at: Option<(u32, u32)>, kind: PendKind, val: &mut Val) {
        if let Some((f, ev)) = at {
            val.pend.push(Pending { f, ev, kind });
        }
    }

    fn cur_fn(&self) -> Option<u32> {
        self.stack.last().map(|s| s.id)
    }

    #[allow(clippy::too_many_arguments)]
    fn new_fn(
        &mut self,
        name: String,
        span: Span,
        kind: FnKind,
        is_async: bool,
        parent: Option<u32>,
    ) -> u32 {
        self.ir.fns.push(FnIr {
            name,
            span,
            kind,
            is_async,
            parent,
            entry: None,
            is_test: self.cfg_test,
            is_pub: false,
            is_trait_method: false,
            pkg_trait: false,
            task_call: false,
            is_root_main: false,
            impl_ty: None,
            has_self: false,
            self_by_value: false,
            trait_name: None,
            calls_param: false,
            param_call_at: None,
            param_site: None,
            param_caught_by: None,
            scope: self.scope,
            ret: TypeRef::Unknown,
            diverges: false,
            events: Vec::new(),
            regions: Vec::new(),
            when: self.when,
        });
        self.ir.fns.len() as u32 - 1
    }

    fn new_var(&mut self, name: String, span: Span, kind: VarKind) -> Option<u32> {
        let owner = self.cur_fn()?;
        self.ir.vars.push(VarIr {
            name,
            owner,
            span,
            kind,
            reads: 0,
            consumed: false,
            fresh: false,
        });
        self.var_flags.push(0);
        Some(self.ir.vars.len() as u32 - 1)
    }

    // ----------------------------------------------------------------- names

    fn resolver(&self) -> Resolver<'_> {
        Resolver {
            maps: &self.maps,
            crates: self.cx.crates,
            kb: self.cx.kb,
        }
    }

    /// Resolves a path in the current context: `Self`, block-level items and imports, then
    /// the module scope.
    fn resolve(&self, segs: &[String]) -> Res {
        let Some(first) = segs.first() else {
            return Res::Unknown;
        };
        if first == "Self" {
            return match self.imp.as_ref().and_then(|i| i.self_ty.clone()) {
                Some(sp) => {
                    let mut sp = (*sp).clone();
                    sp.segs.extend_from_slice(&segs[1..]);
                    Res::Pkg(sp)
                }
                None => Res::Unknown,
            };
        }
        for st in self.stack.iter().rev() {
            for sc in st.scopes.iter().rev() {
                if segs.len() == 1
                    && let Some((_, r)) = sc.items.iter().rev().find(|(n, _)| n == first)
                {
                    return r.clone();
                }
                if let Some((_, target)) = sc.uses.iter().rev().find(|(n, _)| n == first) {
                    let mut full = target.clone();
                    full.extend_from_slice(&segs[1..]);
                    return self.resolver().classify(self.scope, &full);
                }
            }
        }
        self.resolver().resolve(self.scope, segs)
    }

    fn resolve_type(&self, ty: &Type) -> TypeRef {
        if !self.aliases.is_empty()
            && let Some(expanded) = self.expand_aliases(ty)
        {
            return self.resolve_type_as_written(&expanded);
        }
        self.resolve_type_as_written(ty)
    }

    /// A type read as written, aliases not expanded.
    fn resolve_type_as_written(&self, ty: &Type) -> TypeRef {
        types::type_ref(
            ty,
            &mut |segs| match segs {
                [name] => match self.generic_traits.iter().rev().find(|(n, _)| n == name) {
                    Some((_, r)) => r.clone(),
                    None => self.resolve(segs),
                },
                _ => self.resolve(segs),
            },
            0,
        )
    }

    fn lookup_ident(&self, id: &syn::Ident) -> Option<(usize, &Binding)> {
        for (i, st) in self.stack.iter().enumerate().rev() {
            for sc in st.scopes.iter().rev() {
                if let Some(b) = sc.bindings.iter().rev().find(|b| id == b.name.as_str()) {
                    return Some((i, b));
                }
            }
            if st.boundary {
                break;
            }
        }
        None
    }

    /// The binding that `id` names, with the index of its body on the stack.
    fn lookup_ident_mut(&mut self, id: &syn::Ident) -> Option<(usize, &mut Binding)> {
        for (i, st) in self.stack.iter_mut().enumerate().rev() {
            let boundary = st.boundary;
            for sc in st.scopes.iter_mut().rev() {
                if let Some(b) = sc.bindings.iter_mut().rev().find(|b| id == b.name.as_str()) {
                    return Some((i, b));
                }
            }
            if boundary {
                break;
            }
        }
        None
    }

    /// Counts a read of the untracked local that `id` names (see [`Binding::mentions`]).
    fn mention(&mut self, id: &syn::Ident) {
        if let Some((_, b)) = self.lookup_ident_mut(id) {
            b.mentions = b.mentions.saturating_add(1);
        }
    }

    /// Whether `e` names a local that holds join handles or may come to: an untracked one, or
    /// one already tracked as holding tasks.
    fn holds_tasks(&self, e: &Expr) -> bool {
        let Expr::Path(p) = strip(e) else {
            return false;
        };
        let Some(id) = p.path.get_ident() else {
            return false;
        };
        match self.lookup_ident(id) {
            Some((_, b)) => match b.origin {
                Origin::None => !b.param,
                Origin::Var(v) => self.var_kind(v) == VarKind::Task,
                _ => false,
            },
            None => false,
        }
    }

    /// `handles.push(rt.spawn(..))`, `tasks.insert(k, tokio::spawn(..))`: a local collection
    /// keeps the join handles of the spawns in `pend`. The local is tracked from here on as a
    /// holder of tasks, their handles bound to it, so that a later read of it (a loop over
    /// it, `join_all(handles)`, a move into a body that awaits it) may wait for them and a
    /// local that only ever receives them keeps nobody waiting. A read before the first
    /// store counts as well: on a later turn of a loop it comes after the store.
    fn keep_tasks_in(&mut self, recv: &Expr, pend: &[Pending]) {
        if !pend.iter().any(|p| p.kind == PendKind::Spawn) {
            return;
        }
        let Expr::Path(p) = strip(recv) else { return };
        let Some(id) = p.path.get_ident() else { return };
        let Some((at, b)) = self.lookup_ident(id) else {
            return;
        };
        let var = match b.origin {
            Origin::Var(v) if self.var_kind(v) == VarKind::Task => v,
            Origin::None if !b.param => {
                let (name, mentions) = (b.name.clone(), b.mentions);
                let owner = self.stack[at].id;
                let span = self.sp_ident(id, name.len());
                self.ir.vars.push(VarIr {
                    name,
                    owner,
                    span,
                    kind: VarKind::Task,
                    reads: mentions,
                    consumed: mentions > 0,
                    fresh: false,
                });
                self.var_flags.push(0);
                let v = self.ir.vars.len() as u32 - 1;
                if let Some((_, b)) = self.lookup_ident_mut(id) {
                    b.origin = Origin::Var(v);
                }
                v
            }
            _ => return,
        };
        for p in pend.iter().filter(|p| p.kind == PendKind::Spawn) {
            if let Some(ev) = self.ir.fns[p.f as usize].events.get_mut(p.ev as usize)
                && let FKind::Model(EventKind::Run { handle, .. }) = &mut ev.kind
                && *handle == HandleFate::Kept
            {
                *handle = HandleFate::Bound(VarId(var));
            }
        }
    }

    /// Marks the binding that `id` names as holding a handle in non-blocking mode.
    fn mark_nonblocking(&mut self, id: &syn::Ident) {
        for st in self.stack.iter_mut().rev() {
            for sc in st.scopes.iter_mut().rev() {
                if let Some(b) = sc.bindings.iter_mut().rev().find(|b| id == b.name.as_str()) {
                    b.nonblocking = true;
                    return;
                }
            }
            if st.boundary {
                return;
            }
        }
    }

    fn var_kind(&self, v: u32) -> VarKind {
        self.ir.vars[v as usize].kind
    }

    fn bind(&mut self, name: String, ty: TypeRef, origin: Origin) {
        if let Some(st) = self.stack.last_mut()
            && let Some(sc) = st.scopes.last_mut()
        {
            sc.bindings.push(Binding {
                name,
                ty,
                origin,
                slot: None,
                param: false,
                place: self.pat_place,
                nonblocking: false,
                read: self.pat_read,
                init: None,
                mentions: 0,
            });
        }
    }

    fn bind_pat(&mut self, pat: &Pat, ty: TypeRef, depth: u32) {
        if depth > 32 {
            return;
        }
        match pat {
            Pat::Ident(pi) => {
                let ty = if pi.by_ref.is_some() {
                    typing::shared(ty)
                } else {
                    ty
                };
                self.bind(pi.ident.to_string(), ty, Origin::None);
                if let Some((_, sub)) = &pi.subpat {
                    self.bind_pat(sub, TypeRef::Unknown, depth + 1);
                }
            }
            Pat::Type(pt) => {
                // A library newtype destructured in place (`State(db): State<Db>`, an
                // extractor): the one field holds a value of its one type argument.
                if let Some((inner, arg)) = self.newtype_field(&pt.pat, &pt.ty) {
                    let ty = self.resolve_type(arg);
                    self.bind_pat(inner, ty, depth + 1);
                    return;
                }
                let ty = self.resolve_type(&pt.ty);
                self.bind_pat(&pt.pat, ty, depth + 1);
            }
            Pat::Reference(r) => self.bind_pat(&r.pat, ty.peel().clone(), depth + 1),
            Pat::Paren(p) => self.bind_pat(&p.pat, ty, depth + 1),
            Pat::Tuple(t) => {
                for p in &t.elems {
                    self.bind_pat(p, TypeRef::Unknown, depth + 1);
                }
            }
            Pat::TupleStruct(t) => {
                for (i, p) in t.elems.iter().enumerate() {
                    let fty = self.pat_field_type(&t.path, &i.to_string(), &ty);
                    self.bind_pat(p, fty, depth + 1);
                }
            }
            Pat::Struct(s) => {
                for f in &s.fields {
                    let name = match &f.member {
                        syn::Member::Named(id) => id.to_string(),
                        syn::Member::Unnamed(i) => i.index.to_string(),
                    };
                    let fty = self.pat_field_type(&s.path, &name, &ty);
                    self.bind_pat(&f.pat, fty, depth + 1);
                }
            }
            Pat::Slice(s) => {
                for p in &s.elems {
                    self.bind_pat(p, TypeRef::Unknown, depth + 1);
                }
            }
            Pat::Or(o) => {
                if let Some(p) = o.cases.first() {
                    self.bind_pat(p, ty, depth + 1);
                }
            }
            _ => {}
        }
    }

    /// `W(x): W<T>` where `W` is a library type: the pattern `x` and the type `T`.
    pub(super) fn newtype_field<'p>(
        &self,
        pat: &'p Pat,
        ty: &'p syn::Type,
    ) -> Option<(&'p Pat, &'p syn::Type)> {
        let Pat::TupleStruct(ts) = pat else {
            return None;
        };
        let syn::Type::Path(tp) = ty else {
            return None;
        };
        if ts.elems.len() != 1 || tp.qself.is_some() {
            return None;
        }
        let last = tp.path.segments.last()?;
        if ts.path.segments.last()?.ident != last.ident {
            return None;
        }
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        let mut types = args.args.iter().filter_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        });
        let (Some(arg), None) = (types.next(), types.next()) else {
            return None;
        };
        if !matches!(self.resolve(&path_segs(&tp.path)), Res::Ext(_)) {
            return None;
        }
        Some((ts.elems.first()?, arg))
    }

    fn push_scope(&mut self) {
        if let Some(st) = self.stack.last_mut() {
            st.scopes.push(Scope::default());
        }
    }

    fn pop_scope(&mut self, close: Option<PSpan>) {
        let Some(sc) = self.stack.last_mut().and_then(|st| st.scopes.pop()) else {
            return;
        };
        if let Some(close) = close {
            self.drop_slots(&sc.drops, close);
        }
        let vars: Vec<VarId> = sc
            .owned
            .iter()
            .filter(|&&v| self.var_flags[v as usize] & (ESCAPED | CLOSED) == 0)
            .map(|&v| VarId(v))
            .collect();
        if !vars.is_empty()
            && let Some(close) = close
        {
            let span = self.sp(close);
            let span = Span::new(span.file, span.end.saturating_sub(1), span.end);
            self.emit_model(span, EventKind::ScopeEnd { vars });
        }
    }

    // ----------------------------------------------------------------- blocks and statements

    /// Registers the items of a block (functions, statics, imports) before its statements.
    fn prescan_block(&mut self, block: &Block) {
        for stmt in &block.stmts {
            if let Stmt::Macro(m) = stmt {
                self.prescan_macro_statics(&m.mac, key(m, 0).0);
            }
            let Stmt::Item(item) = stmt else { continue };
            match item {
                Item::Fn(f) => {
                    let span = self.sp(f.sig.ident.span());
                    let id = self.new_fn(
                        f.sig.ident.to_string(),
                        span,
                        FnKind::Named,
                        f.sig.asyncness.is_some(),
                        None,
                    );
                    self.ids.insert(key(item, 0), id);
                    self.add_block_item(f.sig.ident.to_string(), Res::Fn(id));
                }
                Item::Static(s) => {
                    let span = self.sp(s.ident.span());
                    let idx = self.new_static(s.ident.to_string(), span, StorageKind::Static);
                    self.ids.insert(key(item, 0), idx);
                    self.add_block_item(s.ident.to_string(), Res::Static(idx));
                }
                Item::Macro(m) => self.prescan_macro_statics(&m.mac, key(item, 0).0),
                Item::Use(u) => {
                    let mut out = Vec::new();
                    let mut globs = Vec::new();
                    flatten_use(&u.tree, &mut Vec::new(), &mut out, &mut globs, 0);
                    if let Some(sc) = self.stack.last_mut().and_then(|s| s.scopes.last_mut()) {
                        sc.uses.extend(out);
                    }
                }
                _ => {}
            }
        }
    }

    fn prescan_macro_statics(&mut self, mac: &syn::Macro, at: usize) {
        let storage = match mac.path.segments.last() {
            Some(s) if s.ident == "lazy_static" => StorageKind::Static,
            Some(s) if s.ident == "thread_local" => StorageKind::ThreadLocal,
            _ => return,
        };
        if let MacroBody::LazyStatics(v) | MacroBody::ThreadLocals(v) = macros::parse(mac) {
            for (i, st) in v.iter().enumerate() {
                let span = self.sp(st.name.span());
                let idx = self.new_static(st.name.to_string(), span, storage);
                self.ids.insert((at, i as u32), idx);
                self.add_block_item(st.name.to_string(), Res::Static(idx));
            }
        }
    }

    fn lower_macro_statics(&mut self, mac: &syn::Macro, at: usize) {
        let body = macros::parse(mac);
        let lazy = matches!(body, MacroBody::LazyStatics(_));
        if let MacroBody::LazyStatics(v) | MacroBody::ThreadLocals(v) = body {
            for (i, st) in v.iter().enumerate() {
                if let Some(&idx) = self.ids.get(&(at, i as u32)) {
                    self.lower_static(idx, &st.ty, &st.init, lazy);
                }
            }
        }
    }

    fn add_block_item(&mut self, name: String, res: Res) {
        if let Some(sc) = self.stack.last_mut().and_then(|s| s.scopes.last_mut()) {
            sc.items.push((name, res));
        }
    }

    fn lower_block_items(&mut self, block: &Block) {
        for stmt in &block.stmts {
            let Stmt::Item(item) = stmt else { continue };
            match item {
                Item::Fn(f) => {
                    if let Some(&id) = self.ids.get(&key(item, 0)) {
                        let saved_imp = self.imp.take();
                        self.lower_fn_item(id, &f.attrs, &f.vis, &f.sig, &f.block, false);
                        self.imp = saved_imp;
                    }
                }
                Item::Static(_) | Item::Macro(_) => self.lower_item(item, 0),
                Item::Impl(imp) => self.lower_impl(imp),
                _ => {}
            }
        }
    }

    /// Lowers a block in its own scope. `tail` is set when the block's value leaves the
    /// function (a function body, or a branch in its tail position).
    fn lower_block(&mut self, block: &Block, tail: bool) -> Val {
        self.push_scope();
        self.prescan_block(block);
        self.lower_block_items(block);
        let mut out = Val::default();
        let n = block.stmts.len();
        for (i, stmt) in block.stmts.iter().enumerate() {
            let saved_when = self.when;
            let cfg = super::cfg::of_attrs(stmt_attrs(stmt), &mut self.ir.conds);
            self.when = self.ir.conds.and(self.when, cfg);
            match stmt {
                Stmt::Local(l) => {
                    self.lower_local(l);
                    self.end_temp_runtimes(self.sp(l.semi_token.span));
                }
                Stmt::Expr(e, semi) => {
                    if semi.is_none() && i + 1 == n {
                        if tail {
                            self.escape_if_runtime(e);
                        }
                        out = self.lower_expr_t(e, tail);
                    } else {
                        let v = self.lower_expr(e);
                        if let Some(semi) = semi {
                            self.discard(&v, Some(e), self.sp(semi.span));
                            self.drop_temporary(e, &v, semi.span);
                            self.end_temp_runtimes(self.sp(semi.span));
                        }
                    }
                }
                Stmt::Macro(m) if self.ids.contains_key(&(key(m, 0).0, 0)) => {
                    self.lower_macro_statics(&m.mac, key(m, 0).0);
                }
                Stmt::Macro(m) => {
                    let v = self.lower_macro(&m.mac);
                    if let Some(semi) = &m.semi_token {
                        self.discard(&v, None, self.sp(semi.span));
                    }
                }
                Stmt::Item(_) => {}
            }
            self.when = saved_when;
        }
        self.pop_scope(Some(block.brace_token.span.close()));
        out
    }

    /// A value thrown away by an expression statement or `let _ = ..` (`e`, ending at `at`).
    fn discard(&mut self, v: &Val, e: Option<&Expr>, at: Span) {
        if let Some((place, span)) = v.moved_from {
            self.fact(span, FactKind::Drop { place });
        } else if let Some(place @ Place::Temp(_)) = v.place
            && v.pend.iter().any(|p| p.kind == PendKind::Call)
            && e.is_some_and(unawaited_call)
        {
            // What a call of the package returns dies here, unread.
            self.fact(at, FactKind::Drop { place });
        }
        for p in &v.pend {
            if p.kind == PendKind::Spawn
                && let Some(ev) = self.ir.fns[p.f as usize].events.get_mut(p.ev as usize)
                && let FKind::Model(EventKind::Run { handle, .. }) = &mut ev.kind
            {
                *handle = HandleFate::Discarded;
            }
        }
    }

    fn lower_local(&mut self, l: &Local) {
        let (pat, ann) = match &l.pat {
            Pat::Type(pt) => (&*pt.pat, Some(self.resolve_type(&pt.ty))),
            p => (p, None),
        };
        let val = match &l.init {
            Some(init) => {
                let pair = completion::channel_pair(pat, &init.expr, self.cx.kb);
                let family = pair.as_ref().map(|p| p.2);
                if let Some((tx, rx, _)) = pair {
                    self.channels.push((tx, rx));
                }
                // `let _ = x;` neither moves nor drops `x`.
                self.borrowing =
                    matches!(pat, Pat::Wild(_)) && matches!(strip(&init.expr), Expr::Path(_));
                let v = self.lower_expr(&init.expr);
                self.borrowing = false;
                // `let x: Foo = s.parse()?;` calls `Foo::from_str`.
                if let Some(m) = drops::conversion_in(&init.expr)
                    && m.turbofish.is_none()
                {
                    self.conversion_call(m, ann.clone());
                }
                // `let x: Config = serde_json::from_str(s)?;` calls `Config::deserialize`.
                if let (Some(ty), Some(c)) = (&ann, drops::result_call_in(&init.expr))
                    && let Expr::Path(p) = strip(&c.func)
                    && p.qself.is_none()
                    && let Res::Ext(full) = self.resolve(&path_segs(&p.path))
                {
                    let span = self.sp2(spans::first(&c.func), c.paren_token.span.close());
                    self.result_trait_call(&full, ty.clone(), span);
                }
                // `let x: Foo = Default::default();` calls `Foo::default()`.
                if let Some(ty) = &ann
                    && self.is_default_call(&init.expr)
                {
                    let span = self.sp2(spans::first(&init.expr), spans::last(&init.expr));
                    self.emit_default_call(span, ty.clone());
                }
                if let Some((_, diverge)) = &init.diverge {
                    self.enter_branch();
                    self.lower_expr(diverge);
                    self.leave_branch();
                }
                let mut v = v;
                if let Some(family) = family
                    && v.place.is_none()
                    && let Some(t) = self.temp()
                {
                    self.channel_places.push((t, family));
                    v.place = Some(t);
                }
                v
            }
            None => Val::default(),
        };
        // A name bound from a static's value keeps the read, so that handing it back
        // (`let c = CELL.get_or_init(..).await; c.clone()`) is no use of the static.
        let saved_read = std::mem::replace(&mut self.pat_read, val.read);
        self.bind_local_pat(l, pat, ann, val);
        self.pat_read = saved_read;
    }

    /// Binds the pattern of a `let` to the value of its initialiser.
    fn bind_local_pat(&mut self, l: &Local, pat: &Pat, ann: Option<TypeRef>, val: Val) {
        match pat {
            Pat::Wild(_) => {
                let init = l.init.as_ref().map(|i| &*i.expr);
                self.discard(&val, init, self.sp(l.semi_token.span));
                if let Some(init) = &l.init {
                    self.drop_temporary(&init.expr, &val, l.semi_token.span);
                }
            }
            Pat::Ident(pi) if pi.subpat.is_none() => {
                let name = pi.ident.to_string();
                if let Some(of) = l
                    .init
                    .as_ref()
                    .and_then(|i| completion::cloned_from(&i.expr))
                {
                    self.clones.push((name.clone(), of));
                }
                let span = self.sp_ident(&pi.ident, name.len());
                let owned = pi.by_ref.is_none();
                let nonblocking = val.nonblocking;
                let before = self.ir.vars.len();
                self.bind_value(name, span, val, ann, owned);
                if let Some(init) = &l.init {
                    let at = self.sp2(spans::first(&init.expr), spans::last(&init.expr));
                    self.note_init(&pi.ident, at);
                }
                if nonblocking {
                    self.mark_nonblocking(&pi.ident);
                }
                // `let set = LocalSet::new();`: the value is made here, by a call of a path.
                if owned
                    && self.ir.vars.len() > before
                    && let Some(init) = &l.init
                    && let Expr::Call(c) = strip(&init.expr)
                    && matches!(strip(&c.func), Expr::Path(_))
                {
                    self.ir.vars[before].fresh = true;
                }
            }
            Pat::Tuple(t)
                if ann.is_none()
                    && t.elems.len() == 2
                    && let Some(rx_ty) =
                        l.init.as_ref().and_then(|i| self.channel_receiver(&i.expr)) =>
            {
                // `let (tx, rx) = mpsc::channel();`: the receiver is of the type the
                // knowledge base names for the maker's family; both halves stand for the
                // channel's place.
                let saved = std::mem::replace(&mut self.pat_place, val.place);
                self.bind_pat(&t.elems[0], TypeRef::Unknown, 1);
                self.bind_pat(&t.elems[1], rx_ty, 1);
                self.pat_place = saved;
            }
            other => {
                let ty = match ann {
                    Some(TypeRef::Unknown) | None => val.ty,
                    Some(t) => t,
                };
                self.bind_pat_from(other, ty, val.place)
            }
        }
    }

    /// The type of the receiver that a call of a channel maker returns (`mpsc::channel()`,
    /// `crossbeam_channel::unbounded()`), by the maker's resolved path.
    fn channel_receiver(&self, e: &Expr) -> Option<TypeRef> {
        let Expr::Call(c) = strip(e) else { return None };
        let Expr::Path(p) = strip(&c.func) else {
            return None;
        };
        if p.qself.is_some() {
            return None;
        }
        let Res::Ext(full) = self.resolve(&path_segs(&p.path)) else {
            return None;
        };
        let rx = self.cx.kb.channel_receiver(&full)?;
        Some(TypeRef::Ext(Arc::from(rx)))
    }

    /// Binds a value to a name, creating a tracked variable when the value is a runtime, a
    /// handle, a resource, a task or the result of a package call.
    fn bind_value(
        &mut self,
        name: String,
        span: Span,
        val: Val,
        ann: Option<TypeRef>,
        owned: bool,
    ) {
        let ty = match ann {
            Some(TypeRef::Unknown) | None => val.ty.clone(),
            Some(t) => t,
        };
        let ty = if owned { ty } else { typing::shared(ty) };
        let ty = self.hinted(span.start, ty, None);
        if let Origin::Var(v) = val.origin
            && val.pend.is_empty()
        {
            self.bind_owned_at(name, ty, Origin::Var(v), val.place, span);
            return;
        }
        let has = |k: PendKind| val.pend.iter().any(|p| p.kind == k);
        let by_type = ty.ext().and_then(|t| self.cx.kb.type_kind(t));
        let kind = if has(PendKind::RuntimeNew) {
            Some(VarKind::Runtime)
        } else if has(PendKind::HandleOf) {
            Some(VarKind::Handle)
        } else if has(PendKind::Create) {
            Some(VarKind::Resource)
        } else if has(PendKind::Spawn) {
            Some(VarKind::Task)
        } else if by_type.is_some() {
            by_type
        } else if has(PendKind::Call) {
            Some(VarKind::Other)
        } else {
            None
        };
        let Some(kind) = kind else {
            // A local whose value the flow does not follow still holds what is put into it
            // (`let mut rts = Vec::new(); rts.push(Runtime::new()?)`): a place of its own.
            let place = val.place.or_else(|| self.temp());
            self.bind_owned_at(name, ty, val.origin, place, span);
            return;
        };
        let Some(var) = self.new_var(name.clone(), span, kind) else {
            return;
        };
        let place = Place::Var(VarId(var));
        self.flow_to(span, place, val.place);
        for p in &val.pend {
            let Some(ev) = self.ir.fns[p.f as usize].events.get_mut(p.ev as usize) else {
                continue;
            };
            match &mut ev.kind {
                FKind::Model(EventKind::RuntimeNew { var: v, .. })
                | FKind::Model(EventKind::HandleOf { var: v, .. }) => *v = Some(VarId(var)),
                FKind::Model(EventKind::Create { resource, .. }) => {
                    *resource = Some(ResourceRef::Local(VarId(var)))
                }
                FKind::Model(EventKind::Run { handle, .. }) => {
                    *handle = HandleFate::Bound(VarId(var))
                }
                FKind::Ref { result, .. } => *result = Some(var),
                _ => {}
            }
        }
        if kind == VarKind::Runtime
            && let Some(sc) = self.stack.last_mut().and_then(|s| s.scopes.last_mut())
        {
            sc.owned.push(var);
        }
        self.bind_owned_at(name, ty, Origin::Var(var), Some(place), span);
    }

    /// Binds an owned local whose value is in `place`.
    fn bind_owned_at(
        &mut self,
        name: String,
        ty: TypeRef,
        origin: Origin,
        place: Option<Place>,
        at: Span,
    ) {
        let saved = std::mem::replace(&mut self.pat_place, place);
        self.owner_at = Some(at);
        self.bind_owned(name, ty, origin);
        self.owner_at = None;
        self.pat_place = saved;
    }

    /// Binds the names of a pattern that destructures the value in `place`.
    fn bind_pat_from(&mut self, pat: &Pat, ty: TypeRef, place: Option<Place>) {
        let saved = std::mem::replace(&mut self.pat_place, place);
        self.bind_pat(pat, ty, 0);
        self.pat_place = saved;
    }

    /// Binds the names of a pattern that tests the value `v` (`if let`, a `match` arm): a
    /// name bound from a static's value keeps the read, so that handing it back
    /// (`if let Some(c) = CLIENT.get() { return c; }`) is no use of the static.
    fn bind_pat_tested(&mut self, pat: &Pat, ty: TypeRef, v: &Val) {
        let saved = std::mem::replace(&mut self.pat_read, v.read);
        self.bind_pat_from(pat, ty, v.place);
        self.pat_read = saved;
    }

    /// The current body returns `v`, the value of `e`. A static read only to be handed back
    /// (`CLIENT.get_or_init(..)` in an accessor) is no use of it: the callers' uses of the
    /// result are, through the flow.
    fn returns(&mut self, e: &Expr, v: &Val) {
        let Some(f) = self.cur_fn() else { return };
        if self.ir.fns[f as usize].kind == FnKind::Named {
            self.no_use_of_static(v.read);
        }
        if let Some(p) = v.place {
            let span = self.sp2(spans::first(e), spans::last(e));
            self.flow_to(span, Place::Ret(FnId(f)), Some(p));
        }
    }

    /// The static read `read` of the current body is no use of the static's value.
    fn no_use_of_static(&mut self, read: Option<(u32, u32)>) {
        let Some(f) = self.cur_fn() else { return };
        if let Some((rf, ev)) = read
            && rf == f
            && let Some(FEvent {
                kind: FKind::Ref { as_value, .. },
                ..
            }) = self.ir.fns[f as usize].events.get_mut(ev as usize)
        {
            *as_value = false;
        }
    }

    fn escape_if_runtime(&mut self, e: &Expr) {
        let Expr::Path(p) = strip(e) else { return };
        let Some(id) = p.path.get_ident() else { return };
        let Some((_, b)) = self.lookup_ident(id) else {
            return;
        };
        if let Origin::Var(v) = b.origin.clone()
            && self.var_kind(v) == VarKind::Runtime
        {
            let span = self.sp(id.span());
            self.var_flags[v as usize] |= ESCAPED;
            self.emit_model(span, EventKind::Escape { var: VarId(v) });
        }
    }

    // ----------------------------------------------------------------- expressions

    fn lower_expr_t(&mut self, e: &Expr, tail: bool) -> Val {
        if !tail {
            return self.lower_expr(e);
        }
        match e {
            Expr::Block(b) => self.lower_block(&b.block, true),
            Expr::Unsafe(u) => self.lower_block(&u.block, true),
            Expr::Paren(p) => self.lower_expr_t(&p.expr, true),
            Expr::If(i) => self.lower_if(i, true),
            Expr::Match(m) => self.lower_match(m, true),
            _ => self.lower_expr(e),
        }
    }

    fn lower_expr(&mut self, e: &Expr) -> Val {
        if self.depth >= MAX_DEPTH {
            return Val::default();
        }
        self.depth += 1;
        let v = self.lower_expr_inner(e);
        self.depth -= 1;
        v
    }

    fn lower_all<'e>(&mut self, es: impl IntoIterator<Item = &'e Expr>) {
        for e in es {
            self.lower_expr(e);
        }
    }

    fn lower_expr_inner(&mut self, e: &Expr) -> Val {
        match e {
            // An array or a tuple holds the join handles of the spawns among its elements.
            Expr::Array(a) => {
                let mut out = Val::default();
                for x in &a.elems {
                    let v = self.lower_expr(x);
                    out.pend
                        .extend(v.pend.into_iter().filter(|p| p.kind == PendKind::Spawn));
                    self.escape_if_runtime(x);
                }
                out
            }
            Expr::Tuple(t) => {
                let mut out = Val::default();
                for x in &t.elems {
                    let v = self.lower_expr(x);
                    out.pend
                        .extend(v.pend.into_iter().filter(|p| p.kind == PendKind::Spawn));
                    self.escape_if_runtime(x);
                }
                out
            }
            Expr::Assign(a) => {
                let right = self.lower_expr(&a.right);
                self.escape_if_runtime(&a.right);
                self.borrowing = matches!(strip(&a.left), Expr::Path(_));
                let old = self.lower_expr(&a.left);
                self.borrowing = false;
                let span = self.sp2(spans::first(&a.left), spans::last(&a.right));
                self.drop_overwritten(&a.left, &old, span);
                self.assign_fact(&a.left, old.place, right.place, span);
                Val::default()
            }
            Expr::Async(a) => {
                let (id, _) = self.lower_async(a);
                let span = self.sp(a.async_token.span);
                self.emit_run(span, id, RunKind::Future);
                // As for calls of async functions, the flow does not tell a future from its
                // output: awaited, the block gives what it returns.
                Val {
                    origin: Origin::Body(id),
                    place: Some(Place::Ret(FnId(id))),
                    ..Val::default()
                }
            }
            Expr::Await(a) => {
                self.wait_of_await(a);
                self.await_completion(&a.base);
                let mut v = self.lower_expr(&a.base);
                v.pend.retain(|p| p.kind != PendKind::Spawn);
                self.await_into_future(a, &v);
                v.local = None;
                v
            }
            Expr::Binary(b) => {
                self.lower_expr(&b.left);
                let lazy = matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_));
                if lazy {
                    self.enter_branch();
                }
                self.lower_expr(&b.right);
                if lazy {
                    self.leave_branch();
                }
                Val::default()
            }
            Expr::Block(b) => self.lower_block(&b.block, false),
            Expr::Break(b) => {
                if let Some(x) = &b.expr {
                    self.lower_expr(x);
                }
                Val::default()
            }
            Expr::Call(c) => self.lower_call(c),
            Expr::Cast(c) => self.lower_expr(&c.expr),
            Expr::Closure(c) => {
                let (id, _) = self.lower_closure(c, None, false);
                let span = self.sp(c.or1_token.span);
                self.emit_run(span, id, RunKind::Inline);
                Val {
                    origin: Origin::Body(id),
                    ..Val::default()
                }
            }
            Expr::Const(c) => self.lower_block(&c.block, false),
            Expr::Field(f) => {
                self.borrowing = matches!(strip(&f.base), Expr::Path(_));
                let base = self.lower_expr(&f.base);
                self.borrowing = false;
                let ty = match &f.member {
                    syn::Member::Named(name) => self.field_of(&base.ty, &name.to_string()),
                    syn::Member::Unnamed(i) => self.field_of(&base.ty, &i.index.to_string()),
                };
                let place = match &f.member {
                    syn::Member::Named(name) => self.field_cell(&base.ty, &name.to_string()),
                    // A tuple element is the tuple's value.
                    syn::Member::Unnamed(_) => base.place,
                };
                Val {
                    ty,
                    place,
                    owner: base.place,
                    ..Val::default()
                }
            }
            Expr::ForLoop(f) => {
                let items = self.lower_expr(&f.expr);
                // A loop over a literal empty range never runs its body: no path goes there.
                if empty_literal_range(&f.expr) {
                    return Val::default();
                }
                let at = self.sp2(spans::first(&f.expr), spans::last(&f.expr));
                self.for_loop_calls(at, &items.ty, false);
                self.enter_loop();
                self.for_loop_calls(at, &items.ty, true);
                let hint_at = self.sp(f.in_token.span).start;
                self.for_loop_blocks(at, hint_at, &items);
                self.push_scope();
                self.bind_pat_from(&f.pat, TypeRef::Unknown, items.place);
                self.lower_block(&f.body, false);
                self.pop_scope(None);
                self.leave_loop();
                Val::default()
            }
            Expr::Group(g) => self.lower_expr(&g.expr),
            Expr::If(i) => self.lower_if(i, false),
            Expr::Index(i) => {
                self.borrowing = matches!(strip(&i.expr), Expr::Path(_));
                let base = self.lower_expr(&i.expr);
                self.borrowing = false;
                self.lower_expr(&i.index);
                // An element stands for its container's value, as `get` gives it.
                Val {
                    place: base.place,
                    ..Val::default()
                }
            }
            Expr::Let(l) => {
                let v = self.lower_expr(&l.expr);
                self.bind_pat_tested(&l.pat, v.ty.clone(), &v);
                Val::default()
            }
            Expr::Loop(l) => {
                self.wait_of_reading_loop(l);
                self.enter_loop();
                self.lower_block(&l.body, false);
                self.leave_loop();
                Val::default()
            }
            Expr::Macro(m) => self.lower_macro(&m.mac),
            Expr::Match(m) => self.lower_match(m, false),
            Expr::MethodCall(m) => self.lower_method_call(m),
            Expr::Paren(p) => self.lower_expr(&p.expr),
            Expr::Path(p) => self.lower_path_value(p),
            Expr::Range(r) => {
                self.lower_all(r.start.iter().chain(r.end.iter()).map(|b| &**b));
                Val::default()
            }
            Expr::Reference(r) => {
                self.borrowing = matches!(strip(&r.expr), Expr::Path(_));
                let v = self.lower_expr(&r.expr);
                self.borrowing = false;
                Val {
                    ty: typing::shared(v.ty),
                    origin: v.origin,
                    place: v.place,
                    read: v.read,
                    ..Val::default()
                }
            }
            Expr::Repeat(r) => {
                self.lower_expr(&r.expr);
                self.lower_expr(&r.len);
                Val::default()
            }
            Expr::Return(r) => {
                if let Some(x) = &r.expr {
                    self.escape_if_runtime(x);
                    let v = self.lower_expr(x);
                    self.returns(x, &v);
                }
                Val::default()
            }
            Expr::Struct(s) => {
                let mut fields = Vec::new();
                let mut typed = Vec::new();
                let mut lazy = false;
                let mut lazy_from = Vec::new();
                let mut made = Vec::new();
                // Places of the field values that hold a resource made in place.
                let mut bound_fields = Vec::new();
                for f in &s.fields {
                    let cell = self.is_cell_new(&f.expr);
                    lazy |= cell;
                    let v = match (self.kept_closure(&f.expr), cell_closure(&f.expr)) {
                        (Some(c), _) => self.closure_value(c),
                        // `LazyLock::new(|| ..)`: the field's value is what the closure makes.
                        (None, Some(c)) if cell => {
                            let (id, _) = self.lower_closure(c, None, false);
                            let span = self.sp(c.or1_token.span);
                            self.emit_run(span, id, RunKind::Inline);
                            let place = Some(Place::Ret(FnId(id)));
                            lazy_from.extend(place);
                            Val {
                                place,
                                ..Val::default()
                            }
                        }
                        _ => self.lower_expr(&f.expr),
                    };
                    let creates = v.pend.iter().filter(|p| p.kind == PendKind::Create);
                    if let Some(p) = v.place
                        && creates.clone().next().is_some()
                    {
                        bound_fields.push(p);
                    }
                    made.extend(creates.cloned());
                    self.escape_if_runtime(&f.expr);
                    if let syn::Member::Named(name) = &f.member
                        && !matches!(v.ty, TypeRef::Unknown)
                    {
                        typed.push((name.to_string(), v.ty.clone()));
                    }
                    if let (syn::Member::Named(name), Some(p)) = (&f.member, v.place) {
                        let span = self.sp2(spans::first(&f.expr), spans::last(&f.expr));
                        fields.push((name.to_string(), p, span));
                    }
                }
                let ty = if s.qself.is_none() {
                    match self.resolve(&path_segs(&s.path)) {
                        Res::Pkg(sp) => TypeRef::Pkg(Arc::new(sp)),
                        Res::Ext(p) => TypeRef::Ext(Arc::from(p.as_str())),
                        _ => TypeRef::Unknown,
                    }
                } else {
                    TypeRef::Unknown
                };
                if let Some(rest) = &s.rest {
                    self.lower_struct_rest(rest, &ty);
                }
                if matches!(ty, TypeRef::Pkg(_)) {
                    for (name, vty) in typed {
                        self.ir.literals.push((ty.clone(), name, vty));
                    }
                }
                self.init_fields(&ty, fields);
                // A value of the package holding a resource made in place holds that resource.
                let pend = if matches!(ty, TypeRef::Pkg(_)) {
                    made
                } else {
                    Vec::new()
                };
                let mut out = Val {
                    ty,
                    pend,
                    ..Val::default()
                };
                // A value that keeps lazily made values of its own is followed by the flow.
                if lazy && let TypeRef::Pkg(sp) = &out.ty {
                    let span = self.sp2(
                        s.path
                            .segments
                            .first()
                            .map_or(s.brace_token.span.open(), |g| g.ident.span()),
                        s.brace_token.span.close(),
                    );
                    let ty = sp.segs.join("::");
                    let at = self.emit_model(span, EventKind::Instance { ty });
                    self.made(at, span, &mut out);
                    if let Some(owner) = out.place {
                        for from in lazy_from {
                            self.fact(span, FactKind::Lazy { owner, from });
                        }
                    }
                }
                // A value of the package with a field that holds a resource made in place is
                // bound as that resource is, wherever the value goes (the result of a
                // `block_on` that builds it, a return, an argument).
                if matches!(out.ty, TypeRef::Pkg(_)) && !bound_fields.is_empty() {
                    let span = self.sp2(spans::first(e), spans::last(e));
                    if out.place.is_none() {
                        out.place = self.temp();
                    }
                    if let Some(to) = out.place {
                        for from in bound_fields {
                            self.fact(span, FactKind::Assign { to, from });
                        }
                    }
                }
                out
            }
            Expr::Try(t) => {
                let v = self.lower_expr(&t.expr);
                Val {
                    ty: v.ty.unwrapped(),
                    origin: v.origin,
                    pend: v.pend,
                    chain: v.chain,
                    local: None,
                    place: v.place,
                    moved_from: v.moved_from,
                    read: v.read,
                    owner: None,
                    nonblocking: v.nonblocking,
                }
            }
            Expr::TryBlock(t) => self.lower_block(&t.block, false),
            Expr::Unary(u) => {
                let v = self.lower_expr(&u.expr);
                Val {
                    ty: v.ty,
                    origin: v.origin,
                    place: v.place,
                    read: v.read,
                    nonblocking: v.nonblocking,
                    ..Val::default()
                }
            }
            Expr::Unsafe(u) => self.lower_block(&u.block, false),
            Expr::While(w) => {
                self.wait_of_loop(w);
                self.enter_loop();
                self.push_scope();
                self.lower_expr(&w.cond);
                self.lower_block(&w.body, false);
                self.pop_scope(None);
                self.leave_loop();
                Val::default()
            }
            Expr::Yield(y) => {
                if let Some(x) = &y.expr {
                    self.lower_expr(x);
                }
                Val::default()
            }
            _ => Val::default(),
        }
    }

    /// `while let Some(x) = rx.recv().await`: the body drains a channel (or joins a set).
    fn wait_of_loop(&mut self, w: &syn::ExprWhile) {
        let Expr::Let(l) = strip(&w.cond) else { return };
        let Expr::Await(a) = strip(&l.expr) else {
            return;
        };
        let Expr::MethodCall(m) = strip(&a.base) else {
            return;
        };
        let (kind, what) = if m.method == "recv" || m.method == "next" || m.method == "recv_many" {
            (
                WaitKind::Drain,
                "a channel drained until every sender is gone",
            )
        } else if m.method == "join_next" {
            (WaitKind::Join, "the tasks of a join set")
        } else {
            // `while let Ok(conn) = listener.accept().await`: an event loop that lasts as long
            // as its source, like a server's accept loop.
            (
                WaitKind::Signal,
                "an event loop driven by an awaited source",
            )
        };
        let span = self.sp(w.while_token.span);
        self.emit_model(
            span,
            EventKind::Wait {
                kind,
                what: what.to_string(),
            },
        );
    }

    /// `loop { match src.read(&mut buf).await { Ok(0) | Err(_) => break, .. } }`: a loop that
    /// reads an awaited source until it ends serves that source, however long it lasts.
    fn wait_of_reading_loop(&mut self, l: &syn::ExprLoop) {
        let ends_on_await = l.body.stmts.iter().any(|st| match st {
            Stmt::Expr(e, _) => exits_on_await(e),
            Stmt::Local(local) => local.init.as_ref().is_some_and(|init| {
                exits_on_await(&init.expr)
                    || (is_await(&init.expr)
                        && init.diverge.as_ref().is_some_and(|(_, e)| breaks(e)))
            }),
            _ => false,
        });
        if ends_on_await {
            let span = self.sp(l.loop_token.span);
            self.emit_model(
                span,
                EventKind::Wait {
                    kind: WaitKind::Serve,
                    what: "a loop reading an awaited source until it ends".to_string(),
                },
            );
        }
    }

    /// `ctrl_c().await`, `pending().await`: the body waits for a shutdown signal or forever.
    fn wait_of_await(&mut self, a: &syn::ExprAwait) {
        // `listener.accept().await`: the body serves an incoming connection.
        if let Expr::MethodCall(m) = strip(&a.base)
            && m.method == "accept"
            && m.args.is_empty()
        {
            let span = self.sp_ident(&m.method, 6);
            self.emit_model(
                span,
                EventKind::Wait {
                    kind: WaitKind::Serve,
                    what: "an incoming connection".to_string(),
                },
            );
            return;
        }
        let Expr::Call(c) = strip(&a.base) else {
            return;
        };
        let Expr::Path(p) = strip(&c.func) else {
            return;
        };
        let Some(last) = p.path.segments.last() else {
            return;
        };
        if last.ident == "ctrl_c" || (last.ident == "pending" && c.args.is_empty()) {
            let span = self.sp(last.ident.span());
            self.emit_model(
                span,
                EventKind::Wait {
                    kind: WaitKind::Signal,
                    what: format!("`{}().await`", last.ident),
                },
            );
        }
    }

    fn enter_loop(&mut self) {
        self.enter_branch();
        if let Some(st) = self.stack.last_mut() {
            st.loop_depth = st.loop_depth.saturating_add(1);
        }
    }

    fn leave_loop(&mut self) {
        if let Some(st) = self.stack.last_mut() {
            st.loop_depth = st.loop_depth.saturating_sub(1);
        }
        self.leave_branch();
    }

    /// Starts a branch of the current body: code that may not run when the code around it
    /// does (a side of an `if`, a `match` arm, a loop's body).
    pub(super) fn enter_branch(&mut self) {
        if let Some(st) = self.stack.last_mut() {
            let regions = &mut self.ir.fns[st.id as usize].regions;
            regions.push(st.region);
            st.region = regions.len() as u32;
        }
    }

    /// Ends the branch [`Self::enter_branch`] started.
    pub(super) fn leave_branch(&mut self) {
        if let Some(st) = self.stack.last_mut()
            && st.region > 0
        {
            st.region = self.ir.fns[st.id as usize].regions[st.region as usize - 1];
        }
    }

    fn lower_if(&mut self, i: &syn::ExprIf, tail: bool) -> Val {
        self.push_scope();
        self.lower_expr(&i.cond);
        // `if cfg!(feature = "x")`: each branch exists in the builds its side of the test holds in.
        let saved_when = self.when;
        let (then_when, else_when) = super::cfg::of_if_condition(&i.cond, &mut self.ir.conds);
        self.when = self.ir.conds.and(saved_when, then_when);
        self.enter_branch();
        let mut v = self.lower_block(&i.then_branch, tail);
        self.when = saved_when;
        self.pop_scope(None);
        self.leave_branch();
        if let Some((_, els)) = &i.else_branch {
            if tail {
                self.escape_if_runtime(els);
            }
            self.when = self.ir.conds.and(saved_when, else_when);
            self.enter_branch();
            let w = self.lower_expr_t(els, tail);
            self.leave_branch();
            self.when = saved_when;
            v.pend.extend(w.pend);
            let span = self.sp(i.if_token.span);
            v.place = self.merge(span, &[v.place, w.place]);
        }
        v
    }

    fn lower_match(&mut self, m: &syn::ExprMatch, tail: bool) -> Val {
        let scrutinee = self.lower_expr(&m.expr);
        let mut out = Val::default();
        let mut places = Vec::new();
        for arm in &m.arms {
            // `#[cfg(..)]` on an arm: the arm exists only in those builds.
            let saved_when = self.when;
            let cfg = super::cfg::of_attrs(&arm.attrs, &mut self.ir.conds);
            self.when = self.ir.conds.and(saved_when, cfg);
            self.push_scope();
            self.enter_branch();
            self.bind_pat_tested(&arm.pat, scrutinee.ty.clone(), &scrutinee);
            if let Some((_, g)) = &arm.guard {
                self.lower_expr(g);
            }
            if tail {
                self.escape_if_runtime(&arm.body);
            }
            let v = self.lower_expr_t(&arm.body, tail);
            out.pend.extend(v.pend);
            places.push(v.place);
            // Every arm has the match's type (or diverges): the first one typed tells it.
            if matches!(out.ty, TypeRef::Unknown) {
                out.ty = v.ty;
            }
            self.pop_scope(None);
            self.leave_branch();
            self.when = saved_when;
        }
        let span = self.sp(m.match_token.span);
        out.place = self.merge(span, &places);
        out
    }

    fn lower_path_value(&mut self, p: &syn::ExprPath) -> Val {
        if p.qself.is_some() {
            return Val::default();
        }
        let borrowing = std::mem::take(&mut self.borrowing);
        if let Some(id) = p.path.get_ident()
            && let Some((at, b)) = self.lookup_ident(id)
        {
            let (ty, origin, slot, place, read) =
                (b.ty.clone(), b.origin.clone(), b.slot, b.place, b.read);
            let nonblocking = b.nonblocking;
            let len = b.name.len();
            let span = self.sp_ident(id, len);
            if let Origin::Var(v) = origin {
                self.read_var(at, v, span);
            } else if matches!(origin, Origin::None) && !std::mem::take(&mut self.inspect_only) {
                self.mention(id);
            }
            if let Some(s) = slot {
                self.use_slot(at, s, borrowing);
            }
            return Val {
                ty,
                origin: origin.forget_drivers(),
                local: slot,
                place,
                nonblocking,
                read,
                ..Val::default()
            };
        }
        let segs = path_segs(&p.path);
        let span = match (p.path.segments.first(), p.path.segments.last()) {
            (Some(a), Some(b)) => self.sp2(a.ident.span(), b.ident.span()),
            _ => return Val::default(),
        };
        match self.resolve(&segs) {
            Res::Fn(id) => {
                self.emit(
                    span,
                    FKind::Ref {
                        target: Target::Fn(id),
                        as_value: true,
                        result: None,
                    },
                );
                Val::default()
            }
            Res::Static(idx) => {
                let read = self.emit(
                    span,
                    FKind::Ref {
                        target: Target::Static(idx),
                        as_value: true,
                        result: None,
                    },
                );
                let target = Target::Static(idx);
                let place = self.static_cell(&target);
                let ty = self
                    .ir
                    .statics
                    .get(idx as usize)
                    .map(|s| s.ty.clone())
                    .unwrap_or_default();
                Val {
                    ty,
                    origin: Origin::Static(Arc::new(target)),
                    place,
                    read,
                    ..Val::default()
                }
            }
            // A unit struct or a unit variant (`Nightly`, `Mode::Fast`) is a value of its type.
            Res::Pkg(sp) if sp.segs.last().is_some_and(|s| is_unit_value_name(s)) => Val {
                ty: typing::ctor_fallback(&sp),
                ..Val::default()
            },
            Res::Pkg(sp) => {
                let target = Arc::new(Target::Path(sp));
                let read = self.emit(
                    span,
                    FKind::Ref {
                        target: (*target).clone(),
                        as_value: true,
                        result: None,
                    },
                );
                let place = self.static_cell(&target);
                Val {
                    origin: Origin::Static(target),
                    place,
                    read,
                    ..Val::default()
                }
            }
            Res::Ext(full) => {
                let last = last_seg(&full);
                if is_type_name(last) {
                    return Val::default();
                }
                let apis = self.cx.kb.apis(&full);
                if apis.is_empty() {
                    return Val::default();
                }
                let empty = Punctuated::new();
                self.lower_api_call(apis, full, None, &empty, span, false)
            }
            Res::Unknown => Val::default(),
        }
    }

    fn read_var(&mut self, at: usize, v: u32, span: Span) {
        let kind = self.var_kind(v);
        self.ir.vars[v as usize].reads += 1;
        if !std::mem::take(&mut self.inspect_only) {
            self.ir.vars[v as usize].consumed = true;
        }
        if matches!(kind, VarKind::Resource | VarKind::Other) {
            self.emit(span, FKind::Read { var: v });
        }
        if kind == VarKind::Runtime {
            let top = self.stack.len();
            for st in &mut self.stack[at + 1..top] {
                if st.is_move && !st.moved.contains(&v) {
                    st.moved.push(v);
                }
            }
        }
    }

    // ----------------------------------------------------------------- nested bodies

    fn finish_nested(&mut self) {
        let Some(st) = self.stack.pop() else { return };
        for v in st.moved {
            if self.var_flags[v as usize] & ESCAPED == 0 {
                let span = self.ir.fns[st.id as usize].span;
                self.var_flags[v as usize] |= ESCAPED;
                self.emit_model(span, EventKind::Escape { var: VarId(v) });
            }
        }
    }

    /// Lowers a closure as a nested body; `root` makes it a body without parent or captures
    /// (a static's initialiser).
    fn lower_closure(
        &mut self,
        c: &syn::ExprClosure,
        param_hint: Option<TypeRef>,
        root: bool,
    ) -> (u32, Val) {
        let start = c.capture.map(|m| m.span).unwrap_or(c.or1_token.span);
        let start = c.asyncness.map(|a| a.span).unwrap_or(start);
        let span = self.sp2(start, c.or2_token.span);
        let parent = if root { None } else { self.cur_fn() };
        let id = self.new_fn(
            "<closure>".to_string(),
            span,
            FnKind::Closure,
            c.asyncness.is_some(),
            parent,
        );
        self.stack.push(FnState::new(id, root, c.capture.is_some()));
        let mut hint = param_hint;
        for input in &c.inputs {
            let ty = hint.take().unwrap_or_default();
            self.bind_pat(input, ty, 0);
        }
        let v = self.lower_expr(&c.body);
        self.returns(&c.body, &v);
        self.ir.fns[id as usize].diverges = diverges(&c.body);
        self.finish_nested();
        (id, v)
    }

    /// The closure that a struct field is given to keep, as such or in a smart pointer
    /// (`on_tick: Box::new(|| ..)`): it runs where the field is called, not where it is made.
    fn kept_closure<'e>(&self, e: &'e Expr) -> Option<&'e syn::ExprClosure> {
        match strip(e) {
            Expr::Closure(c) => Some(c),
            Expr::Call(c) => self.wrapped_closure(c),
            _ => None,
        }
    }

    /// The closure a smart pointer's constructor wraps (`Box::new(|x| ..)`, `Arc::new(move ||
    /// ..)`): a value kept to be called later, wherever the pointer is put.
    fn wrapped_closure<'e>(&self, c: &'e syn::ExprCall) -> Option<&'e syn::ExprClosure> {
        if c.args.len() != 1 {
            return None;
        }
        let Expr::Path(p) = strip(&c.func) else {
            return None;
        };
        let name = p.path.segments.last()?.ident.to_string();
        if !matches!(name.as_str(), "new" | "pin") {
            return None;
        }
        let Res::Ext(full) = self.resolve(&path_segs(&p.path)) else {
            return None;
        };
        if parent_path(&full).is_some_and(types::is_transparent) {
            self.kept_closure(&c.args[0])
        } else {
            None
        }
    }

    /// The place a local binding named by `p` holds its value in.
    fn binding_place(&self, p: &syn::ExprPath) -> Option<Place> {
        let id = p.path.get_ident()?;
        self.lookup_ident(id).and_then(|(_, b)| b.place)
    }

    /// Whether `e` makes an empty lazy or once cell (`OnceLock::new()`, `OnceCell::default()`,
    /// `LazyLock::new(|| ..)`).
    fn is_cell_new(&self, e: &Expr) -> bool {
        let Expr::Call(c) = strip(e) else {
            return false;
        };
        let Expr::Path(p) = strip(&c.func) else {
            return false;
        };
        let Res::Ext(full) = self.resolve(&path_segs(&p.path)) else {
            return false;
        };
        matches!(last_seg(&full), "new" | "default")
            && parent_path(&full).is_some_and(|t| types::is_cell(last_seg(t)))
    }

    /// Lowers a closure kept as a value: no run here, its value goes where the expression's
    /// value goes, and a call through that place runs it.
    fn closure_value(&mut self, c: &syn::ExprClosure) -> Val {
        let (id, _) = self.lower_closure(c, None, false);
        let span = self.sp(c.or1_token.span);
        let place = self.temp();
        if let Some(to) = place {
            self.fact(span, FactKind::Body { body: FnId(id), to });
        }
        Val {
            origin: Origin::Body(id),
            place,
            ..Val::default()
        }
    }

    fn lower_async(&mut self, a: &syn::ExprAsync) -> (u32, Val) {
        let span = self.sp2(a.async_token.span, a.block.brace_token.span.open());
        let parent = self.cur_fn();
        let id = self.new_fn(
            "<async block>".to_string(),
            span,
            FnKind::Future,
            true,
            parent,
        );
        self.stack
            .push(FnState::new(id, false, a.capture.is_some()));
        let v = self.lower_block(&a.block, false);
        if let Some(p) = v.place {
            let span = self.sp(a.block.brace_token.span.close());
            self.flow_to(span, Place::Ret(FnId(id)), Some(p));
        }
        self.ir.fns[id as usize].diverges = block_diverges(&a.block);
        self.finish_nested();
        (id, v)
    }

    /// A body for an expression handed to a runtime API (`block_on(fetch())`).
    /// A future built by a library call (`rt.block_on(tokio::time::timeout(..))`) is built
    /// before the runtime runs it: an API that needs a runtime at construction needs it in the
    /// calling code.
    fn eager_needs_runtime(&mut self, e: &Expr, kind: FnKind) {
        if kind != FnKind::Future {
            return;
        }
        let Some(full) = self.lib_call_path(e) else {
            return;
        };
        let needs = self
            .cx
            .kb
            .apis(&full)
            .iter()
            .any(|a| a.concept == crate::kb::Concept::NeedsRuntime);
        if needs {
            let span = self.sp2(spans::first(e), spans::last(e));
            self.emit_model(span, EventKind::NeedsRuntime { api: full });
        }
    }

    /// The full path of the library function `e` calls, when it is a plain call of one.
    fn lib_call_path(&self, e: &Expr) -> Option<String> {
        let Expr::Call(c) = strip(e) else { return None };
        let Expr::Path(p) = strip(&c.func) else {
            return None;
        };
        if p.qself.is_some() || self.lookup_path_binding(p).is_some() {
            return None;
        }
        match self.resolve(&path_segs(&p.path)) {
            Res::Ext(full) => Some(full),
            _ => None,
        }
    }

    /// Whether `e`, handed to a runtime API as the future to run, is a library call that does
    /// its work when called (`tokio::spawn(..)` hands back a `JoinHandle`): the calling code runs
    /// it, and the executor only polls what it returns.
    fn spawns_when_called(&self, e: &Expr, kind: FnKind) -> bool {
        use crate::kb::{Concept, RuntimeArg};
        kind == FnKind::Future
            && self.lib_call_path(e).is_some_and(|full| {
                self.cx.kb.apis(&full).iter().any(|a| {
                    matches!(a.concept, Concept::Spawn | Concept::SpawnBlocking)
                        && a.runtime == RuntimeArg::Current
                })
            })
    }

    fn lower_synthetic(&mut self, e: &Expr, kind: FnKind) -> (u32, Val) {
        let span = self.sp2(spans::first(e), spans::last(e));
        let name = if kind == FnKind::Future {
            "<future>"
        } else {
            "<closure>"
        };
        self.eager_needs_runtime(e, kind);
        if self.spawns_when_called(e, kind) {
            self.lower_expr(e);
            let parent = self.cur_fn();
            let id = self.new_fn(name.to_string(), span, kind, true, parent);
            self.stack.push(FnState::new(id, false, false));
            self.finish_nested();
            return (id, Val::default());
        }
        let parent = self.cur_fn();
        let id = self.new_fn(name.to_string(), span, kind, kind == FnKind::Future, parent);
        self.stack.push(FnState::new(id, false, false));
        let v = match strip(e) {
            // A function handed over by name is called by the API.
            Expr::Path(p) if p.qself.is_none() && self.lookup_path_binding(p).is_none() => {
                let segs = path_segs(&p.path);
                match self.resolve(&segs) {
                    Res::Fn(f) => {
                        self.emit(
                            span,
                            FKind::Ref {
                                target: Target::Fn(f),
                                as_value: false,
                                result: None,
                            },
                        );
                        Val::default()
                    }
                    Res::Pkg(sp) => {
                        self.emit(
                            span,
                            FKind::Ref {
                                target: Target::Path(sp),
                                as_value: false,
                                result: None,
                            },
                        );
                        Val::default()
                    }
                    _ => self.lower_expr(e),
                }
            }
            _ => self.lower_expr(e),
        };
        self.returns(e, &v);
        self.finish_nested();
        (id, v)
    }

    /// The stack index and origin of the local binding a path names.
    fn lookup_path_binding(&self, p: &syn::ExprPath) -> Option<(usize, Origin)> {
        let id = p.path.get_ident()?;
        self.lookup_ident(id).map(|(i, b)| (i, b.origin.clone()))
    }

    fn emit_run(&mut self, span: Span, body: u32, how: RunKind) {
        self.emit_run_api(span, body, how, String::new());
    }

    /// Emits a run of a nested body by the API (or method) named `api`.
    fn emit_run_api(
        &mut self,
        span: Span,
        body: u32,
        how: RunKind,
        api: String,
    ) -> Option<(u32, u32)> {
        self.emit_model(
            span,
            EventKind::Run {
                body: crate::model::FnId(body),
                how,
                runtime: RuntimeRef::Current,
                handle: HandleFate::Kept,
                api: api.into(),
            },
        )
    }

    /// Lowers the argument that an API runs (the body of a `spawn`, `block_on`, ...).
    fn lower_body_arg(&mut self, arg: &Expr, synth: FnKind) -> (u32, Val) {
        match strip(arg) {
            Expr::Closure(c) => self.lower_closure(c, None, false),
            Expr::Async(a) => self.lower_async(a),
            Expr::Path(p) => {
                if let Some((_, Origin::Body(id))) = self.lookup_path_binding(p) {
                    return (id, Val::default());
                }
                let param = synth == FnKind::Future && self.names_own_param(p);
                let (id, v) = self.lower_synthetic(arg, synth);
                if param && let Some(f) = self.cur_fn() {
                    // The helper runs the future it is given there: what a caller hands it
                    // runs on that API's executor.
                    let func = &mut self.ir.fns[f as usize];
                    if func.param_call_at.is_none() {
                        func.param_call_at = Some(0);
                        func.param_site = Some(id);
                    }
                }
                (id, v)
            }
            _ => self.lower_synthetic(arg, synth),
        }
    }

    /// Whether `p` names a parameter of the function being lowered (not of an enclosing one).
    fn names_own_param(&self, p: &syn::ExprPath) -> bool {
        let Some(id) = p.path.get_ident() else {
            return false;
        };
        self.lookup_ident(id)
            .is_some_and(|(at, b)| b.param && at + 1 == self.stack.len())
    }
}

/// The closure a call is handed first (`LazyLock::new(|| ..)`).
fn cell_closure(e: &Expr) -> Option<&syn::ExprClosure> {
    let Expr::Call(c) = strip(e) else {
        return None;
    };
    match c.args.first().map(strip) {
        Some(Expr::Closure(cl)) => Some(cl),
        _ => None,
    }
}
