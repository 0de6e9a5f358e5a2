//! Lowering of one parsed file into the file-level IR ([`FileIr`]): functions, nested bodies,
//! tracked variables, statics and events, with references to other files left symbolic.
//!
//! Two passes over the items: the first collects the names of every module scope (items,
//! `use` imports, `mod` declarations) so that paths resolve whatever the declaration order;
//! the second lowers bodies. Recursion over expressions is bounded by [`MAX_DEPTH`].

use std::collections::HashMap;
use std::sync::Arc;

use proc_macro2::Span as PSpan;
use syn::punctuated::Punctuated;
use syn::token::Comma;
use syn::{Block, Expr, Item, Local, Pat, Signature, Stmt, Type};

use super::attrs;
use super::ir::{
    Anchor, FEvent, FKind, FileIr, FnIr, ItemIr, ModDecl, ModuleIr, StaticIr, SymPath, Target,
    TypeIr, TypeRef, VarIr,
};
use super::kbview::KbView;
use super::macros::{self, MacroBody};
use super::resolve::{Res, Resolver, ScopeMap, flatten_use};
use super::spans;
use super::types::{self, path_segs};
use crate::kb::{Api, Concept, Match, RuntimeArg};
use crate::model::{
    EventKind, FileId, Flavor, FnKind, HandleFate, ResourceRef, RunKind, RuntimeRef, Span,
    StorageKind, VarId, VarKind,
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
    /// A runtime builder chain (flavor, span of the chain start).
    Builder(Flavor, Span),
    /// A nested body (closure or async block).
    Body(u32),
    /// A static.
    Static(Target),
}

/// What lowering knows about the value of an expression.
#[derive(Clone, Debug, Default)]
struct Val {
    ty: TypeRef,
    origin: Origin,
    pend: Vec<Pending>,
    /// Inside a builder chain: methods keep the pending events.
    chain: bool,
}

#[derive(Clone, Debug)]
struct Binding {
    name: String,
    ty: TypeRef,
    origin: Origin,
}

#[derive(Default)]
struct Scope {
    bindings: Vec<Binding>,
    items: Vec<(String, Res)>,
    uses: Vec<(String, Vec<String>)>,
    owned: Vec<u32>,
}

struct FnState {
    id: u32,
    loop_depth: u16,
    scopes: Vec<Scope>,
    boundary: bool,
    is_move: bool,
    moved: Vec<u32>,
}

impl FnState {
    fn new(id: u32, boundary: bool, is_move: bool) -> Self {
        FnState {
            id,
            loop_depth: 0,
            scopes: vec![Scope::default()],
            boundary,
            is_move,
            moved: Vec::new(),
        }
    }
}

struct ImplCtx {
    self_ty: Option<Arc<SymPath>>,
}

const ESCAPED: u8 = 1;
const CLOSED: u8 = 2;

/// Method names too common to resolve by name alone.
const COMMON_METHODS: &[&str] = &[
    "abort", "add", "all", "and", "and_then", "any", "append", "apply", "as_bytes", "as_mut",
    "as_ref", "as_str", "await", "bind", "borrow", "borrow_mut", "build", "bytes", "call",
    "cancel", "capacity", "chain", "chars", "clear", "clone", "close", "cloned", "cmp", "collect",
    "config", "connect", "contains", "contains_key", "copied", "count", "data", "dedup", "default",
    "deref", "deref_mut", "drain", "drop", "entry", "enumerate", "eq", "err", "error", "execute",
    "expect", "extend", "filter", "filter_map", "find", "finish", "first", "flat_map", "flatten",
    "flush", "fmt", "fold", "for_each", "from", "get", "get_mut", "get_or_init", "handle", "hash",
    "id", "init", "insert", "into", "into_inner", "into_iter", "is_empty", "is_err", "is_none",
    "is_ok", "is_some", "iter", "iter_mut", "join", "key", "keys", "kind", "last", "len", "lines",
    "load", "lock", "map", "map_err", "max", "min", "name", "new", "next", "ok", "ok_or",
    "ok_or_else", "open", "or", "or_else", "parse", "partial_cmp", "peek", "poll", "poll_next",
    "poll_ready", "pop", "position", "process", "push", "push_str", "read", "ready", "recv",
    "remove", "replace", "reset", "retain", "rev", "run", "send", "set", "shutdown", "size",
    "skip", "sort", "sort_by", "spawn", "split", "start", "state", "status", "step_by", "stop",
    "store", "sum", "take", "tick", "to_owned", "to_string", "to_vec", "trim", "truncate",
    "try_from", "try_into", "try_recv", "unwrap", "unwrap_or", "unwrap_or_default",
    "unwrap_or_else", "update", "value", "values", "wait", "with", "write", "write_all", "zip",
];

fn is_common_method(name: &str) -> bool {
    COMMON_METHODS.binary_search(&name).is_ok()
}

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

fn parent_path(path: &str) -> Option<&str> {
    path.rfind("::").map(|i| &path[..i])
}

fn last_seg(path: &str) -> &str {
    path.rsplit("::").next().unwrap_or(path)
}

fn is_type_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_uppercase())
}

/// Lowers one parsed file.
pub fn lower_file(cx: &FileCtx<'_>, file: &syn::File) -> FileIr {
    let mut l = Lowerer {
        cx,
        ir: FileIr::default(),
        maps: Vec::new(),
        stack: Vec::new(),
        depth: 0,
        scope: 0,
        cfg_test: false,
        imp: None,
        var_flags: Vec::new(),
        ids: HashMap::new(),
        struct_fields: HashMap::new(),
        raw_uses: Vec::new(),
        raw_globs: Vec::new(),
    };
    l.ir.modules.push(ModuleIr::default());
    l.maps.push(ScopeMap::default());
    let mut structs = Vec::new();
    l.collect(&file.items, 0, &mut structs, 0);
    l.finish_scopes();
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
    ir: FileIr,
    maps: Vec<ScopeMap>,
    stack: Vec<FnState>,
    depth: u32,
    scope: u32,
    cfg_test: bool,
    imp: Option<ImplCtx>,
    var_flags: Vec<u8>,
    /// Ids assigned in the first pass, by item address (and index inside a macro).
    ids: HashMap<(usize, u32), u32>,
    struct_fields: HashMap<(u32, String), Vec<(String, TypeRef)>>,
    raw_uses: Vec<(u32, String, Vec<String>)>,
    raw_globs: Vec<(u32, Vec<String>)>,
}

fn key<T>(item: &T, sub: u32) -> (usize, u32) {
    (item as *const T as usize, sub)
}

impl<'a, 'c> Lowerer<'a, 'c> {
    // ----------------------------------------------------------------- spans and events

    fn sp(&self, s: PSpan) -> Span {
        let r = s.byte_range();
        Span::new(
            self.cx.file,
            r.start as u32 + self.cx.bom,
            r.end as u32 + self.cx.bom,
        )
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
        let (f, loop_depth) = (st.id, st.loop_depth);
        let events = &mut self.ir.fns[f as usize].events;
        events.push(FEvent {
            span,
            loop_depth,
            kind,
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
            is_root_main: false,
            impl_ty: None,
            has_self: false,
            scope: self.scope,
            ret: TypeRef::Unknown,
            events: Vec::new(),
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
        types::type_ref(ty, &mut |segs| self.resolve(segs), 0)
    }

    fn lookup(&self, name: &str) -> Option<(usize, Binding)> {
        for (i, st) in self.stack.iter().enumerate().rev() {
            for sc in st.scopes.iter().rev() {
                if let Some(b) = sc.bindings.iter().rev().find(|b| b.name == name) {
                    return Some((i, b.clone()));
                }
            }
            if st.boundary {
                break;
            }
        }
        None
    }

    fn var_kind(&self, v: u32) -> VarKind {
        self.ir.vars[v as usize].kind
    }

    fn bind(&mut self, name: String, ty: TypeRef, origin: Origin) {
        if let Some(st) = self.stack.last_mut()
            && let Some(sc) = st.scopes.last_mut()
        {
            sc.bindings.push(Binding { name, ty, origin });
        }
    }

    fn bind_pat(&mut self, pat: &Pat, ty: TypeRef, depth: u32) {
        if depth > 32 {
            return;
        }
        match pat {
            Pat::Ident(pi) => {
                self.bind(pi.ident.to_string(), ty, Origin::None);
                if let Some((_, sub)) = &pi.subpat {
                    self.bind_pat(sub, TypeRef::Unknown, depth + 1);
                }
            }
            Pat::Type(pt) => {
                let ty = self.resolve_type(&pt.ty);
                self.bind_pat(&pt.pat, ty, depth + 1);
            }
            Pat::Reference(r) => self.bind_pat(&r.pat, ty, depth + 1),
            Pat::Paren(p) => self.bind_pat(&p.pat, ty, depth + 1),
            Pat::Tuple(t) => {
                for p in &t.elems {
                    self.bind_pat(p, TypeRef::Unknown, depth + 1);
                }
            }
            Pat::TupleStruct(t) => {
                for p in &t.elems {
                    self.bind_pat(p, TypeRef::Unknown, depth + 1);
                }
            }
            Pat::Struct(s) => {
                for f in &s.fields {
                    self.bind_pat(&f.pat, TypeRef::Unknown, depth + 1);
                }
            }
            Pat::Slice(s) => {
                for p in &s.elems {
                    self.bind_pat(p, TypeRef::Unknown, depth + 1);
                }
            }
            Pat::Or(o) => {
                if let Some(p) = o.cases.first() {
                    self.bind_pat(p, TypeRef::Unknown, depth + 1);
                }
            }
            _ => {}
        }
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

    // ----------------------------------------------------------------- pass 1: collect

    fn add_item(&mut self, scope: u32, name: String, item: ItemIr) {
        self.maps[scope as usize].items.insert(name.clone(), item.clone());
        self.ir.modules[scope as usize].items.push((name, item));
    }

    fn new_static(&mut self, name: String, span: Span, storage: StorageKind) -> u32 {
        self.ir.statics.push(StaticIr {
            name,
            span,
            storage,
            type_apis: Vec::new(),
            type_pkg: Vec::new(),
            init: None,
            init_creates: Vec::new(),
            scope: Some(self.scope),
        });
        self.ir.statics.len() as u32 - 1
    }

    fn collect<'ast>(
        &mut self,
        items: &'ast [Item],
        scope: u32,
        structs: &mut Vec<(StructLike<'ast>, u32, u32)>,
        depth: u32,
    ) {
        if depth > 32 {
            return;
        }
        let saved = (self.scope, self.cfg_test);
        self.scope = scope;
        self.cfg_test = self.ir.modules[scope as usize].cfg_test;
        for item in items {
            match item {
                Item::Fn(f) => {
                    let name = f.sig.ident.to_string();
                    let span = self.sp(f.sig.ident.span());
                    let saved_test = self.cfg_test;
                    self.cfg_test |= attrs::is_cfg_test(&f.attrs);
                    let id = self.new_fn(
                        name.clone(),
                        span,
                        FnKind::Named,
                        f.sig.asyncness.is_some(),
                        None,
                    );
                    self.cfg_test = saved_test;
                    self.ids.insert(key(item, 0), id);
                    self.add_item(scope, name, ItemIr::Fn(id));
                }
                Item::Static(s) => {
                    let name = s.ident.to_string();
                    let span = self.sp(s.ident.span());
                    let idx = self.new_static(name.clone(), span, StorageKind::Static);
                    self.ids.insert(key(item, 0), idx);
                    self.add_item(scope, name, ItemIr::Static(idx));
                }
                Item::Struct(s) => {
                    let idx = self.new_type(s.ident.to_string(), scope);
                    structs.push((StructLike::Struct(s), scope, idx));
                }
                Item::Enum(e) => {
                    let idx = self.new_type(e.ident.to_string(), scope);
                    structs.push((StructLike::Enum(e), scope, idx));
                }
                Item::Union(u) => self.add_item(scope, u.ident.to_string(), ItemIr::Type(u32::MAX)),
                Item::Trait(t) => self.add_item(scope, t.ident.to_string(), ItemIr::Type(u32::MAX)),
                Item::Type(t) => self.add_item(scope, t.ident.to_string(), ItemIr::Type(u32::MAX)),
                Item::Mod(m) => {
                    let name = m.ident.to_string();
                    let cfg_test = self.cfg_test || attrs::is_cfg_test(&m.attrs);
                    match &m.content {
                        Some((_, inner)) => {
                            self.ir.modules.push(ModuleIr {
                                parent: Some(scope),
                                name: name.clone(),
                                items: Vec::new(),
                                globs: Vec::new(),
                                cfg_test,
                            });
                            self.maps.push(ScopeMap {
                                parent: Some(scope),
                                ..ScopeMap::default()
                            });
                            let s = self.ir.modules.len() as u32 - 1;
                            self.ids.insert(key(item, 0), s);
                            self.add_item(scope, name, ItemIr::Module(s));
                            self.collect(inner, s, structs, depth + 1);
                            self.scope = scope;
                            self.cfg_test = saved.1 || self.ir.modules[scope as usize].cfg_test;
                        }
                        None => {
                            self.ir.mod_decls.push(ModDecl {
                                scope,
                                name: name.clone(),
                                path_attr: attrs::path_attr(&m.attrs),
                                cfg_test,
                            });
                            let d = self.ir.mod_decls.len() as u32 - 1;
                            self.add_item(scope, name, ItemIr::ModFile(d));
                        }
                    }
                }
                Item::Use(u) => {
                    let mut out = Vec::new();
                    let mut globs = Vec::new();
                    flatten_use(&u.tree, &mut Vec::new(), &mut out, &mut globs, 0);
                    for (name, path) in out {
                        self.maps[scope as usize]
                            .uses
                            .insert(name.clone(), path.clone());
                        self.raw_uses.push((scope, name, path));
                    }
                    for g in globs {
                        self.raw_globs.push((scope, g));
                    }
                }
                Item::ExternCrate(e) => {
                    if let Some((_, alias)) = &e.rename {
                        let path = vec![e.ident.to_string()];
                        self.maps[scope as usize]
                            .uses
                            .insert(alias.to_string(), path);
                    }
                }
                Item::Macro(m) => {
                    let storage = match m.mac.path.segments.last() {
                        Some(s) if s.ident == "lazy_static" => StorageKind::Static,
                        Some(s) if s.ident == "thread_local" => StorageKind::ThreadLocal,
                        _ => continue,
                    };
                    let statics = match macros::parse(&m.mac) {
                        MacroBody::LazyStatics(v) | MacroBody::ThreadLocals(v) => v,
                        _ => continue,
                    };
                    for (i, st) in statics.iter().enumerate() {
                        let name = st.name.to_string();
                        let span = self.sp(st.name.span());
                        let idx = self.new_static(name.clone(), span, storage);
                        self.ids.insert(key(item, i as u32), idx);
                        self.add_item(scope, name, ItemIr::Static(idx));
                    }
                }
                _ => {}
            }
        }
        self.scope = saved.0;
        self.cfg_test = saved.1;
    }

    fn new_type(&mut self, name: String, scope: u32) -> u32 {
        self.ir.types.push(TypeIr {
            name: name.clone(),
            scope,
            bound_api: None,
            field_pkg: Vec::new(),
        });
        let idx = self.ir.types.len() as u32 - 1;
        self.add_item(scope, name, ItemIr::Type(idx));
        idx
    }

    /// Classifies the `use` imports and globs of every scope once all items are known.
    fn finish_scopes(&mut self) {
        let uses = std::mem::take(&mut self.raw_uses);
        for (scope, name, path) in uses {
            if let Res::Pkg(sp) = self.resolver().classify(scope, &path) {
                self.ir.modules[scope as usize]
                    .items
                    .push((name, ItemIr::Alias(sp)));
            }
        }
        let globs = std::mem::take(&mut self.raw_globs);
        for (scope, path) in globs {
            match self.resolver().classify(scope, &path) {
                Res::Pkg(sp) => {
                    self.ir.modules[scope as usize].globs.push(sp);
                    self.maps[scope as usize].pkg_globs = true;
                }
                Res::Ext(p) => self.maps[scope as usize].ext_globs.push(p),
                _ => {}
            }
        }
    }

    fn type_mentions(&self, ty: &Type) -> (Option<String>, Vec<SymPath>) {
        let mut api = None;
        let mut pkg = Vec::new();
        for segs in types::mentions(ty) {
            match self.resolve(&segs) {
                Res::Ext(p) => {
                    if api.is_none()
                        && let Some(a) = self.cx.kb.runtime_bound(&p)
                    {
                        api = Some(if a.matching == Match::Prefix {
                            p
                        } else {
                            a.path.clone()
                        });
                    }
                }
                Res::Pkg(sp) => pkg.push(sp),
                _ => {}
            }
        }
        (api, pkg)
    }

    fn record_struct(&mut self, s: StructLike<'_>, scope: u32, idx: u32) {
        let saved = self.scope;
        self.scope = scope;
        let mut fields_out = Vec::new();
        let mut bound = None;
        let mut pkgs = Vec::new();
        let mut visit = |this: &mut Self, fields: &syn::Fields| {
            for (i, f) in fields.iter().enumerate() {
                let (api, pkg) = this.type_mentions(&f.ty);
                if bound.is_none() {
                    bound = api;
                }
                pkgs.extend(pkg);
                let name = f
                    .ident
                    .as_ref()
                    .map(|i| i.to_string())
                    .unwrap_or_else(|| i.to_string());
                fields_out.push((name, this.resolve_type(&f.ty)));
            }
        };
        let name = match s {
            StructLike::Struct(st) => {
                visit(self, &st.fields);
                st.ident.to_string()
            }
            StructLike::Enum(en) => {
                for v in &en.variants {
                    visit(self, &v.fields);
                }
                en.ident.to_string()
            }
        };
        let t = &mut self.ir.types[idx as usize];
        t.bound_api = bound;
        t.field_pkg = pkgs;
        self.struct_fields.insert((scope, name), fields_out);
        self.scope = saved;
    }

    // ----------------------------------------------------------------- pass 2: items

    fn lower_items(&mut self, items: &[Item], scope: u32, depth: u32) {
        if depth > 32 {
            return;
        }
        let saved = (self.scope, self.cfg_test);
        self.scope = scope;
        self.cfg_test = self.ir.modules[scope as usize].cfg_test;
        for item in items {
            self.lower_item(item, depth);
        }
        self.scope = saved.0;
        self.cfg_test = saved.1;
    }

    fn lower_item(&mut self, item: &Item, depth: u32) {
        match item {
            Item::Fn(f) => {
                let id = match self.ids.get(&key(item, 0)) {
                    Some(&id) => id,
                    None => {
                        // A function declared inside a body: registered by the block prescan.
                        return;
                    }
                };
                self.lower_fn_item(id, &f.attrs, &f.vis, &f.sig, &f.block, false);
            }
            Item::Static(s) => {
                if let Some(&idx) = self.ids.get(&key(item, 0)) {
                    self.lower_static(idx, &s.ty, &s.expr);
                }
            }
            Item::Mod(m) => {
                if let (Some((_, inner)), Some(&s)) = (&m.content, self.ids.get(&key(item, 0))) {
                    self.lower_items(inner, s, depth + 1);
                }
            }
            Item::Impl(imp) => self.lower_impl(imp),
            Item::Trait(t) => self.lower_trait(t),
            Item::Macro(m) => self.lower_macro_statics(&m.mac, key(item, 0).0),
            _ => {}
        }
    }

    fn lower_fn_item(
        &mut self,
        id: u32,
        attrs_: &[syn::Attribute],
        vis: &syn::Visibility,
        sig: &Signature,
        block: &Block,
        trait_method: bool,
    ) {
        let a = attrs::fn_attrs(attrs_);
        let cfg_test = attrs::is_cfg_test(attrs_);
        let ret = match &sig.output {
            syn::ReturnType::Type(_, t) => self.resolve_type(t),
            syn::ReturnType::Default => TypeRef::Unknown,
        };
        {
            let f = &mut self.ir.fns[id as usize];
            f.entry = a.entry;
            f.is_test |= a.is_test || cfg_test;
            f.is_pub = attrs::is_pub(vis);
            f.is_trait_method = trait_method;
            f.has_self = sig.receiver().is_some();
            f.ret = ret;
            f.is_root_main =
                f.name == "main" && self.scope == 0 && f.impl_ty.is_none() && self.stack.is_empty();
        }
        let saved_test = self.cfg_test;
        self.cfg_test |= cfg_test;
        self.lower_fn_body(id, sig, block);
        self.cfg_test = saved_test;
    }

    fn lower_fn_body(&mut self, id: u32, sig: &Signature, block: &Block) {
        let saved_depth = self.depth;
        self.stack.push(FnState::new(id, true, false));
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(_) => {
                    let ty = match self.imp.as_ref().and_then(|i| i.self_ty.clone()) {
                        Some(sp) => TypeRef::Pkg(sp),
                        None => TypeRef::Unknown,
                    };
                    self.bind("self".to_string(), ty, Origin::None);
                }
                syn::FnArg::Typed(pt) => {
                    let ty = self.resolve_type(&pt.ty);
                    self.bind_pat(&pt.pat, ty, 0);
                }
            }
        }
        self.lower_block(block, true);
        self.stack.pop();
        self.depth = saved_depth;
    }

    fn lower_impl(&mut self, imp: &syn::ItemImpl) {
        let (self_ty, type_name) = match &*imp.self_ty {
            Type::Path(tp) if tp.qself.is_none() => {
                let segs = path_segs(&tp.path);
                let name = segs.last().cloned().unwrap_or_default();
                let sp = match self.resolve(&segs) {
                    Res::Pkg(sp) => Some(Arc::new(sp)),
                    _ => None,
                };
                (sp, name)
            }
            _ => (None, "<impl>".to_string()),
        };
        let trait_impl = imp.trait_.is_some();
        let saved = self.imp.replace(ImplCtx {
            self_ty: self_ty.clone(),
        });
        let saved_test = self.cfg_test;
        self.cfg_test |= attrs::is_cfg_test(&imp.attrs);
        for it in &imp.items {
            if let syn::ImplItem::Fn(f) = it {
                let name = format!("{type_name}::{}", f.sig.ident);
                let span = self.sp(f.sig.ident.span());
                let id = self.new_fn(name, span, FnKind::Named, f.sig.asyncness.is_some(), None);
                self.ir.fns[id as usize].impl_ty = self_ty.clone();
                self.lower_fn_item(id, &f.attrs, &f.vis, &f.sig, &f.block, trait_impl);
            }
        }
        self.cfg_test = saved_test;
        self.imp = saved;
    }

    fn lower_trait(&mut self, t: &syn::ItemTrait) {
        let sp = SymPath {
            anchor: Anchor::Module {
                scope: self.scope,
                up: 0,
            },
            segs: vec![t.ident.to_string()],
        };
        let saved = self.imp.replace(ImplCtx { self_ty: None });
        for it in &t.items {
            if let syn::TraitItem::Fn(f) = it
                && let Some(block) = &f.default
            {
                let name = format!("{}::{}", t.ident, f.sig.ident);
                let span = self.sp(f.sig.ident.span());
                let id = self.new_fn(name, span, FnKind::Named, f.sig.asyncness.is_some(), None);
                self.ir.fns[id as usize].impl_ty = Some(Arc::new(sp.clone()));
                self.lower_fn_item(id, &f.attrs, &t.vis, &f.sig, block, true);
            }
        }
        self.imp = saved;
    }

    fn lower_static(&mut self, idx: u32, ty: &Type, init: &Expr) {
        let (api, pkg) = self.type_mentions(ty);
        let in_body = !self.stack.is_empty();
        {
            let s = &mut self.ir.statics[idx as usize];
            s.type_apis.extend(api);
            s.type_pkg = pkg;
            if in_body {
                s.scope = None;
            }
        }
        let name = self.ir.statics[idx as usize].name.clone();
        let saved_depth = self.depth;
        // `Lazy::new(|| ..)`: the closure is the initialiser.
        let closure = match strip(init) {
            Expr::Call(c) if c.args.len() == 1 => match strip(&c.args[0]) {
                Expr::Closure(cl) => Some(cl),
                _ => None,
            },
            _ => None,
        };
        let (id, tail) = match closure {
            Some(cl) => self.lower_closure(cl, None, true),
            None => {
                let span = self.sp2(spans::first(init), spans::last(init));
                let id = self.new_fn(format!("<init {name}>"), span, FnKind::Closure, false, None);
                self.stack.push(FnState::new(id, true, false));
                let v = self.lower_expr(init);
                self.stack.pop();
                (id, v)
            }
        };
        self.depth = saved_depth;
        let s = &mut self.ir.statics[idx as usize];
        s.init = Some(id);
        s.init_creates = tail
            .pend
            .iter()
            .filter(|p| p.kind == PendKind::Create)
            .map(|p| (p.f, p.ev))
            .collect();
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
        if let MacroBody::LazyStatics(v) | MacroBody::ThreadLocals(v) = macros::parse(mac) {
            for (i, st) in v.iter().enumerate() {
                if let Some(&idx) = self.ids.get(&(at, i as u32)) {
                    self.lower_static(idx, &st.ty, &st.init);
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
            match stmt {
                Stmt::Local(l) => self.lower_local(l),
                Stmt::Expr(e, semi) => {
                    if semi.is_none() && i + 1 == n {
                        if tail {
                            self.escape_if_runtime(e);
                        }
                        out = self.lower_expr_t(e, tail);
                    } else {
                        let v = self.lower_expr(e);
                        if semi.is_some() {
                            self.discard(&v);
                        }
                    }
                }
                Stmt::Macro(m) if self.ids.contains_key(&(key(m, 0).0, 0)) => {
                    self.lower_macro_statics(&m.mac, key(m, 0).0);
                }
                Stmt::Macro(m) => {
                    let v = self.lower_macro(&m.mac);
                    if m.semi_token.is_some() {
                        self.discard(&v);
                    }
                }
                Stmt::Item(_) => {}
            }
        }
        self.pop_scope(Some(block.brace_token.span.close()));
        out
    }

    /// A value thrown away by an expression statement or `let _ = ..`.
    fn discard(&mut self, v: &Val) {
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
                let v = self.lower_expr(&init.expr);
                if let Some((_, diverge)) = &init.diverge {
                    self.lower_expr(diverge);
                }
                v
            }
            None => Val::default(),
        };
        match pat {
            Pat::Wild(_) => self.discard(&val),
            Pat::Ident(pi) if pi.subpat.is_none() => {
                let name = pi.ident.to_string();
                let span = self.sp(pi.ident.span());
                self.bind_value(name, span, val, ann);
            }
            other => self.bind_pat(other, TypeRef::Unknown, 0),
        }
    }

    /// Binds a value to a name, creating a tracked variable when the value is a runtime, a
    /// handle, a resource, a task or the result of a package call.
    fn bind_value(&mut self, name: String, span: Span, val: Val, ann: Option<TypeRef>) {
        let ty = match ann {
            Some(TypeRef::Unknown) | None => val.ty.clone(),
            Some(t) => t,
        };
        if let Origin::Var(v) = val.origin
            && val.pend.is_empty()
        {
            self.bind(name, ty, Origin::Var(v));
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
            self.bind(name, ty, val.origin);
            return;
        };
        let Some(var) = self.new_var(name.clone(), span, kind) else {
            return;
        };
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
                FKind::Model(EventKind::Run { handle, .. }) => *handle = HandleFate::Bound(VarId(var)),
                FKind::Ref { result, .. } => *result = Some(var),
                _ => {}
            }
        }
        if kind == VarKind::Runtime
            && let Some(sc) = self.stack.last_mut().and_then(|s| s.scopes.last_mut())
        {
            sc.owned.push(var);
        }
        self.bind(name, ty, Origin::Var(var));
    }

    fn escape_if_runtime(&mut self, e: &Expr) {
        let Expr::Path(p) = strip(e) else { return };
        let Some(id) = p.path.get_ident() else { return };
        let Some((_, b)) = self.lookup(&id.to_string()) else {
            return;
        };
        if let Origin::Var(v) = b.origin
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
            Expr::Array(a) => {
                for x in &a.elems {
                    self.lower_expr(x);
                    self.escape_if_runtime(x);
                }
                Val::default()
            }
            Expr::Tuple(t) => {
                for x in &t.elems {
                    self.lower_expr(x);
                    self.escape_if_runtime(x);
                }
                Val::default()
            }
            Expr::Assign(a) => {
                self.lower_expr(&a.right);
                self.escape_if_runtime(&a.right);
                self.lower_expr(&a.left);
                Val::default()
            }
            Expr::Async(a) => {
                let (id, _) = self.lower_async(a);
                let span = self.sp(a.async_token.span);
                self.emit_run(span, id, RunKind::Future);
                Val {
                    origin: Origin::Body(id),
                    ..Val::default()
                }
            }
            Expr::Await(a) => {
                let mut v = self.lower_expr(&a.base);
                v.pend.retain(|p| p.kind != PendKind::Spawn);
                v
            }
            Expr::Binary(b) => {
                self.lower_expr(&b.left);
                self.lower_expr(&b.right);
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
                let base = self.lower_expr(&f.base);
                let ty = match (&base.ty, &f.member) {
                    (TypeRef::Pkg(sp), syn::Member::Named(name)) => self.field_type(sp, name),
                    _ => TypeRef::Unknown,
                };
                Val {
                    ty,
                    ..Val::default()
                }
            }
            Expr::ForLoop(f) => {
                self.lower_expr(&f.expr);
                self.enter_loop();
                self.push_scope();
                self.bind_pat(&f.pat, TypeRef::Unknown, 0);
                self.lower_block(&f.body, false);
                self.pop_scope(None);
                self.leave_loop();
                Val::default()
            }
            Expr::Group(g) => self.lower_expr(&g.expr),
            Expr::If(i) => self.lower_if(i, false),
            Expr::Index(i) => {
                self.lower_expr(&i.expr);
                self.lower_expr(&i.index);
                Val::default()
            }
            Expr::Let(l) => {
                self.lower_expr(&l.expr);
                self.bind_pat(&l.pat, TypeRef::Unknown, 0);
                Val::default()
            }
            Expr::Loop(l) => {
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
                let v = self.lower_expr(&r.expr);
                Val {
                    ty: v.ty,
                    origin: v.origin,
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
                    self.lower_expr(x);
                }
                Val::default()
            }
            Expr::Struct(s) => {
                for f in &s.fields {
                    self.lower_expr(&f.expr);
                    self.escape_if_runtime(&f.expr);
                }
                if let Some(rest) = &s.rest {
                    self.lower_expr(rest);
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
                Val {
                    ty,
                    ..Val::default()
                }
            }
            Expr::Try(t) => self.lower_expr(&t.expr),
            Expr::TryBlock(t) => self.lower_block(&t.block, false),
            Expr::Unary(u) => {
                let v = self.lower_expr(&u.expr);
                Val {
                    ty: v.ty,
                    origin: v.origin,
                    ..Val::default()
                }
            }
            Expr::Unsafe(u) => self.lower_block(&u.block, false),
            Expr::While(w) => {
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

    fn enter_loop(&mut self) {
        if let Some(st) = self.stack.last_mut() {
            st.loop_depth = st.loop_depth.saturating_add(1);
        }
    }

    fn leave_loop(&mut self) {
        if let Some(st) = self.stack.last_mut() {
            st.loop_depth = st.loop_depth.saturating_sub(1);
        }
    }

    fn lower_if(&mut self, i: &syn::ExprIf, tail: bool) -> Val {
        self.push_scope();
        self.lower_expr(&i.cond);
        let mut v = self.lower_block(&i.then_branch, tail);
        self.pop_scope(None);
        if let Some((_, els)) = &i.else_branch {
            if tail {
                self.escape_if_runtime(els);
            }
            let w = self.lower_expr_t(els, tail);
            v.pend.extend(w.pend);
        }
        v
    }

    fn lower_match(&mut self, m: &syn::ExprMatch, tail: bool) -> Val {
        self.lower_expr(&m.expr);
        let mut out = Val::default();
        for arm in &m.arms {
            self.push_scope();
            self.bind_pat(&arm.pat, TypeRef::Unknown, 0);
            if let Some((_, g)) = &arm.guard {
                self.lower_expr(g);
            }
            if tail {
                self.escape_if_runtime(&arm.body);
            }
            let v = self.lower_expr_t(&arm.body, tail);
            out.pend.extend(v.pend);
            self.pop_scope(None);
        }
        out
    }

    fn field_type(&self, ty: &SymPath, name: &syn::Ident) -> TypeRef {
        let Anchor::Module { scope, up: 0 } = ty.anchor else {
            return TypeRef::Unknown;
        };
        let [type_name] = ty.segs.as_slice() else {
            return TypeRef::Unknown;
        };
        self.struct_fields
            .get(&(scope, type_name.clone()))
            .and_then(|fields| fields.iter().find(|(n, _)| name == n))
            .map(|(_, t)| t.clone())
            .unwrap_or_default()
    }

    fn lower_path_value(&mut self, p: &syn::ExprPath) -> Val {
        if p.qself.is_some() {
            return Val::default();
        }
        if let Some(id) = p.path.get_ident() {
            let name = id.to_string();
            if let Some((at, b)) = self.lookup(&name) {
                let span = self.sp(id.span());
                if let Origin::Var(v) = b.origin {
                    self.read_var(at, v, span);
                }
                return Val {
                    ty: b.ty,
                    origin: b.origin,
                    ..Val::default()
                };
            }
        }
        let segs = path_segs(&p.path);
        let span = match (p.path.segments.first(), p.path.segments.last()) {
            (Some(a), Some(b)) => self.sp2(a.ident.span(), b.ident.span()),
            _ => return Val::default(),
        };
        match self.resolve(&segs) {
            Res::Fn(id) => {
                self.emit(span, FKind::Ref {
                    target: Target::Fn(id),
                    as_value: true,
                    result: None,
                });
                Val::default()
            }
            Res::Static(idx) => {
                self.emit(span, FKind::Ref {
                    target: Target::Static(idx),
                    as_value: true,
                    result: None,
                });
                Val {
                    origin: Origin::Static(Target::Static(idx)),
                    ..Val::default()
                }
            }
            Res::Pkg(sp) => {
                let target = Target::Path(sp);
                self.emit(span, FKind::Ref {
                    target: target.clone(),
                    as_value: true,
                    result: None,
                });
                Val {
                    origin: Origin::Static(target),
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
        self.finish_nested();
        (id, v)
    }

    fn lower_async(&mut self, a: &syn::ExprAsync) -> (u32, Val) {
        let span = self.sp2(a.async_token.span, a.block.brace_token.span.open());
        let parent = self.cur_fn();
        let id = self.new_fn("<async block>".to_string(), span, FnKind::Future, true, parent);
        self.stack.push(FnState::new(id, false, a.capture.is_some()));
        let v = self.lower_block(&a.block, false);
        self.finish_nested();
        (id, v)
    }

    /// A body for an expression handed to a runtime API (`block_on(fetch())`).
    fn lower_synthetic(&mut self, e: &Expr, kind: FnKind) -> (u32, Val) {
        let span = self.sp2(spans::first(e), spans::last(e));
        let name = if kind == FnKind::Future {
            "<future>"
        } else {
            "<closure>"
        };
        let parent = self.cur_fn();
        let id = self.new_fn(name.to_string(), span, kind, kind == FnKind::Future, parent);
        self.stack.push(FnState::new(id, false, false));
        let v = match strip(e) {
            // A function handed over by name is called by the API.
            Expr::Path(p) if p.qself.is_none() && self.lookup_path_binding(p).is_none() => {
                let segs = path_segs(&p.path);
                match self.resolve(&segs) {
                    Res::Fn(f) => {
                        self.emit(span, FKind::Ref {
                            target: Target::Fn(f),
                            as_value: false,
                            result: None,
                        });
                        Val::default()
                    }
                    Res::Pkg(sp) => {
                        self.emit(span, FKind::Ref {
                            target: Target::Path(sp),
                            as_value: false,
                            result: None,
                        });
                        Val::default()
                    }
                    _ => self.lower_expr(e),
                }
            }
            _ => self.lower_expr(e),
        };
        self.finish_nested();
        (id, v)
    }

    fn lookup_path_binding(&self, p: &syn::ExprPath) -> Option<Binding> {
        let id = p.path.get_ident()?;
        self.lookup(&id.to_string()).map(|(_, b)| b)
    }

    fn emit_run(&mut self, span: Span, body: u32, how: RunKind) {
        self.emit_model(span, EventKind::Run {
            body: crate::model::FnId(body),
            how,
            runtime: RuntimeRef::Current,
            handle: HandleFate::Kept,
            api: String::new(),
        });
    }

    /// Lowers the argument that an API runs (the body of a `spawn`, `block_on`, ...).
    fn lower_body_arg(&mut self, arg: &Expr, synth: FnKind) -> (u32, Val) {
        match strip(arg) {
            Expr::Closure(c) => self.lower_closure(c, None, false),
            Expr::Async(a) => self.lower_async(a),
            Expr::Path(p) => {
                if let Some(b) = self.lookup_path_binding(p)
                    && let Origin::Body(id) = b.origin
                {
                    return (id, Val::default());
                }
                self.lower_synthetic(arg, synth)
            }
            _ => self.lower_synthetic(arg, synth),
        }
    }

    // ----------------------------------------------------------------- calls

    fn recv_ref(&self, origin: &Origin) -> RuntimeRef {
        match origin {
            Origin::Var(v) => RuntimeRef::Var(VarId(*v)),
            Origin::Handle(r) => *r,
            Origin::Unbound(f) => RuntimeRef::Fresh(*f),
            _ => RuntimeRef::Unknown,
        }
    }

    /// Lowers a plain argument: its events, and a move of a runtime variable.
    fn lower_arg(&mut self, arg: &Expr, hint: Option<TypeRef>) -> Val {
        if let (Some(h), Expr::Closure(c)) = (hint, strip(arg)) {
            let (id, _) = self.lower_closure(c, Some(h), false);
            let span = self.sp(c.or1_token.span);
            self.emit_run(span, id, RunKind::Inline);
            return Val::default();
        }
        let v = self.lower_expr(arg);
        self.escape_if_runtime(arg);
        v
    }

    fn lower_call(&mut self, c: &syn::ExprCall) -> Val {
        let Expr::Path(p) = strip(&c.func) else {
            self.lower_expr(&c.func);
            for a in &c.args {
                self.lower_arg(a, None);
            }
            return Val::default();
        };
        if p.qself.is_some() {
            for a in &c.args {
                self.lower_arg(a, None);
            }
            return Val::default();
        }
        let start = match p.path.segments.first() {
            Some(s) => s.ident.span(),
            None => return Val::default(),
        };
        let span = self.sp2(start, c.paren_token.span.close());
        if let Some(b) = self.lookup_path_binding(p) {
            // Calling a local closure or function value.
            if let Origin::Var(v) = b.origin {
                let at = self.lookup(&b.name).map(|(i, _)| i).unwrap_or(0);
                self.read_var(at, v, span);
            }
            for a in &c.args {
                self.lower_arg(a, None);
            }
            return Val::default();
        }
        let segs = path_segs(&p.path);
        match self.resolve(&segs) {
            Res::Ext(full) => {
                if full == "std::mem::drop" && c.args.len() == 1 {
                    return self.lower_drop(&c.args[0], span);
                }
                let apis = self.cx.kb.apis(&full);
                if !apis.is_empty() {
                    return self.lower_api_call(apis, full, None, &c.args, span, false);
                }
                self.lower_ext_call(&full, &c.args)
            }
            Res::Fn(id) => self.lower_pkg_call(Target::Fn(id), &c.args, span, TypeRef::Unknown),
            Res::Pkg(sp) => {
                let ty = match sp.segs.as_slice() {
                    [.., t, f] if is_type_name(t) && types::returns_self(f) => {
                        let mut tp = sp.clone();
                        tp.segs.pop();
                        TypeRef::Pkg(Arc::new(tp))
                    }
                    _ => TypeRef::Unknown,
                };
                self.lower_pkg_call(Target::Path(sp), &c.args, span, ty)
            }
            Res::Static(_) | Res::Unknown => {
                // `Some(x)`, `Ok(x)`, tuple structs: the value passes through.
                let mut out = Val::default();
                for a in &c.args {
                    let v = self.lower_arg(a, None);
                    if c.args.len() == 1 && segs.len() == 1 {
                        out.pend = v.pend;
                    }
                }
                out
            }
        }
    }

    fn lower_drop(&mut self, arg: &Expr, span: Span) -> Val {
        if let Expr::Path(p) = strip(arg)
            && let Some(b) = self.lookup_path_binding(p)
            && let Origin::Var(v) = b.origin
            && self.var_kind(v) == VarKind::Runtime
        {
            self.ir.vars[v as usize].reads += 1;
            self.var_flags[v as usize] |= CLOSED;
            self.emit_model(span, EventKind::RuntimeClose {
                runtime: RuntimeRef::Var(VarId(v)),
                api: "std::mem::drop".to_string(),
            });
            return Val::default();
        }
        self.lower_arg(arg, None);
        Val::default()
    }

    fn lower_pkg_call(
        &mut self,
        target: Target,
        args: &Punctuated<Expr, Comma>,
        span: Span,
        ty: TypeRef,
    ) -> Val {
        for a in args {
            self.lower_arg(a, None);
        }
        let mut out = Val {
            ty,
            ..Val::default()
        };
        let at = self.emit(span, FKind::Ref {
            target,
            as_value: false,
            result: None,
        });
        self.pend(at, PendKind::Call, &mut out);
        out
    }

    /// A call of an external function the knowledge base does not know.
    fn lower_ext_call(&mut self, full: &str, args: &Punctuated<Expr, Comma>) -> Val {
        let hint = self.closure_param_hint(full);
        let mut out = Val::default();
        let mut arg_vals = Vec::new();
        for a in args {
            arg_vals.push(self.lower_arg(a, hint.clone()));
        }
        let parent = parent_path(full);
        let last = last_seg(full);
        // Wrappers (`Arc::new(x)`, `Mutex::new(x)`, `Some(x)`) keep the value's events.
        if arg_vals.len() == 1 && (last == "new" || last == "from") {
            let v = arg_vals.pop().unwrap_or_default();
            out.pend = v.pend;
            if parent.is_some_and(types::is_transparent) {
                out.ty = v.ty;
                out.origin = v.origin;
                return out;
            }
        }
        if let Some(parent) = parent
            && is_type_name(last_seg(parent))
            && types::returns_self(last)
        {
            out.ty = TypeRef::Ext(Arc::from(parent));
        }
        out
    }

    /// `std::thread::scope(|s| ..)`: the closure's parameter is a `std::thread::Scope` when
    /// the knowledge base knows that type.
    fn closure_param_hint(&self, full: &str) -> Option<TypeRef> {
        let parent = parent_path(full)?;
        let last = last_seg(full);
        let mut chars = last.chars();
        let first = chars.next()?;
        if !first.is_ascii_lowercase() {
            return None;
        }
        let ty = format!("{parent}::{}{}", first.to_ascii_uppercase(), chars.as_str());
        let probe = format!("{ty}::spawn");
        if self.cx.kb.apis(&probe).is_empty() {
            return None;
        }
        Some(TypeRef::Ext(Arc::from(ty.as_str())))
    }

    fn lower_method_call(&mut self, m: &syn::ExprMethodCall) -> Val {
        let recv = self.lower_expr(&m.receiver);
        let name = m.method.to_string();
        let span = self.sp2(m.method.span(), m.paren_token.span.close());
        if types::passes_through(&name) {
            for a in &m.args {
                self.lower_arg(a, None);
            }
            return recv;
        }
        let mut apis = Vec::new();
        let mut path = name.clone();
        if let TypeRef::Ext(t) = &recv.ty {
            path = format!("{t}::{name}");
            apis = self.cx.kb.apis(&path);
        }
        if apis.is_empty() && !matches!(recv.ty, TypeRef::Pkg(_)) {
            apis = self.cx.kb.method_apis(&name);
            if !apis.is_empty() {
                path = name.clone();
            }
        }
        if !apis.is_empty() {
            return self.lower_api_call(apis, path, Some(recv), &m.args, span, true);
        }
        // Static `get_or_init(|| ..)`: a resource made in the closure lives in the static.
        let static_init = match (&recv.origin, name.as_str()) {
            (Origin::Static(t), "get_or_init" | "get_or_try_init") => Some(t.clone()),
            _ => None,
        };
        for a in &m.args {
            match (&static_init, strip(a)) {
                (Some(t), Expr::Closure(c)) => {
                    let (id, tail) = self.lower_closure(c, None, false);
                    let run_span = self.sp(c.or1_token.span);
                    self.emit_run(run_span, id, RunKind::Inline);
                    for p in tail.pend.iter().filter(|p| p.kind == PendKind::Create) {
                        self.ir.bound_creates.push((t.clone(), p.f, p.ev));
                    }
                }
                _ => {
                    self.lower_arg(a, None);
                }
            }
        }
        let mut out = Val::default();
        match &recv.ty {
            TypeRef::Pkg(t) => {
                let at = self.emit(span, FKind::Ref {
                    target: Target::Method {
                        ty: Some(t.clone()),
                        name: name.clone(),
                    },
                    as_value: false,
                    result: None,
                });
                self.pend(at, PendKind::Call, &mut out);
            }
            TypeRef::Unknown if !is_common_method(&name) => {
                let at = self.emit(span, FKind::Ref {
                    target: Target::Method {
                        ty: None,
                        name: name.clone(),
                    },
                    as_value: false,
                    result: None,
                });
                self.pend(at, PendKind::Call, &mut out);
            }
            TypeRef::Ext(t) => {
                // Fluent APIs: an unknown method of an external type returns that type.
                out.ty = TypeRef::Ext(t.clone());
                if recv.chain {
                    out.pend = recv.pend.clone();
                    out.chain = !types::finishes_chain(&name);
                    out.origin = recv.origin.clone();
                }
            }
            _ => {}
        }
        if recv.chain && out.pend.is_empty() && !matches!(recv.ty, TypeRef::Ext(_)) {
            out.pend.extend(recv.pend.iter().copied());
            out.chain = !types::finishes_chain(&name);
            if let Origin::Builder(..) = recv.origin {
                out.origin = recv.origin.clone();
            }
        }
        out
    }

    /// Lowers a call that the knowledge base knows: nested bodies become `Run` events, and
    /// each matching entry adds its event.
    fn lower_api_call(
        &mut self,
        apis: Vec<&'a Api>,
        path: String,
        recv: Option<Val>,
        args: &Punctuated<Expr, Comma>,
        span: Span,
        is_method: bool,
    ) -> Val {
        let body_api = apis.iter().copied().find(|a| {
            matches!(
                a.concept,
                Concept::BlockOn
                    | Concept::Spawn
                    | Concept::SpawnBlocking
                    | Concept::BlockInPlace
                    | Concept::Thread
            )
        });
        let body_idx = body_api.map(|_| {
            args.iter()
                .position(|a| matches!(strip(a), Expr::Closure(_) | Expr::Async(_)))
                .unwrap_or(0)
        });
        let mut body = None;
        let mut body_val = Val::default();
        for (i, arg) in args.iter().enumerate() {
            if Some(i) == body_idx
                && let Some(api) = body_api
            {
                let synth = match api.concept {
                    Concept::BlockOn | Concept::Spawn => FnKind::Future,
                    _ => FnKind::Closure,
                };
                let (id, v) = self.lower_body_arg(arg, synth);
                body = Some(id);
                body_val = v;
            } else {
                self.lower_arg(arg, None);
            }
        }
        let recv_origin = recv.as_ref().map(|r| r.origin.clone()).unwrap_or_default();
        if body.is_none()
            && body_api.is_some()
            && args.is_empty()
            && let Origin::Body(b) = recv_origin
        {
            body = Some(b);
        }
        let rref = self.recv_ref(&recv_origin);
        let recv_bound = recv.as_ref().is_some_and(|r| {
            r.pend.iter().any(|p| p.kind == PendKind::Create)
                || r.ty.ext().is_some_and(|t| self.cx.kb.runtime_bound(t).is_some())
                || matches!(r.origin, Origin::Var(v) if self.var_kind(v) == VarKind::Resource)
        });
        let mut out = Val::default();
        let mut done: Vec<Concept> = Vec::new();
        let parent = parent_path(&path).map(str::to_string);
        for api in apis {
            if done.contains(&api.concept) {
                continue;
            }
            done.push(api.concept);
            let api_name = if api.matching == Match::Prefix {
                path.clone()
            } else {
                api.path.clone()
            };
            let own_type = || parent_path(&api.path).map(|p| TypeRef::Ext(Arc::from(p)));
            match api.concept {
                Concept::RuntimeNew => {
                    let (flavor, start) = match &recv_origin {
                        Origin::Builder(f, s) => (
                            if *f == Flavor::Unknown {
                                api.model_flavor()
                            } else {
                                *f
                            },
                            Some(*s),
                        ),
                        _ => (api.model_flavor(), None),
                    };
                    let sp = start.map(|s| self.join(s, span)).unwrap_or(span);
                    let at = self.emit_model(sp, EventKind::RuntimeNew {
                        var: None,
                        flavor,
                        api: api_name,
                    });
                    self.pend(at, PendKind::RuntimeNew, &mut out);
                    out.origin = Origin::Unbound(flavor);
                    out.ty = match &api.returns {
                        Some(r) => TypeRef::Ext(Arc::from(r.as_str())),
                        None => own_type().unwrap_or_default(),
                    };
                }
                Concept::RuntimeBuilder => {
                    let start = match &recv_origin {
                        Origin::Builder(_, s) => *s,
                        _ => span,
                    };
                    out.origin = Origin::Builder(api.model_flavor(), start);
                    out.ty = own_type().unwrap_or_default();
                    out.chain = true;
                }
                Concept::BlockOn
                | Concept::Spawn
                | Concept::SpawnBlocking
                | Concept::BlockInPlace
                | Concept::Thread => {
                    let Some(b) = body else { continue };
                    if Some(api.concept) != body_api.map(|a| a.concept) {
                        continue;
                    }
                    let how = match api.concept {
                        Concept::BlockOn => RunKind::BlockOn,
                        Concept::Spawn => RunKind::Spawn,
                        Concept::SpawnBlocking => RunKind::SpawnBlocking,
                        Concept::BlockInPlace => RunKind::BlockInPlace,
                        _ => RunKind::Thread,
                    };
                    let runtime = match (how, api.runtime) {
                        (RunKind::Thread, _) => RuntimeRef::Unknown,
                        (_, RuntimeArg::Current) => RuntimeRef::Current,
                        (_, RuntimeArg::Fresh) => RuntimeRef::Fresh(api.model_flavor()),
                        (_, RuntimeArg::Receiver) => rref,
                    };
                    let at = self.emit_model(span, EventKind::Run {
                        body: crate::model::FnId(b),
                        how,
                        runtime,
                        handle: HandleFate::Kept,
                        api: api_name,
                    });
                    // A spawn method of a container (`JoinSet::spawn`) keeps the handle.
                    let container = is_method && api.runtime != RuntimeArg::Receiver;
                    if how == RunKind::Spawn && !container {
                        self.pend(at, PendKind::Spawn, &mut out);
                    }
                    if how == RunKind::BlockOn {
                        out.pend.extend(body_val.pend.iter().copied());
                        out.ty = body_val.ty.clone();
                    }
                }
                Concept::BlockingEntry => {
                    self.emit_model(span, EventKind::BlockingEntry { api: path.clone() });
                }
                Concept::Handle => {
                    let r = if api.runtime == RuntimeArg::Current {
                        RuntimeRef::Current
                    } else {
                        rref
                    };
                    let at = self.emit_model(span, EventKind::HandleOf {
                        runtime: r,
                        var: None,
                    });
                    self.pend(at, PendKind::HandleOf, &mut out);
                    out.origin = Origin::Handle(r);
                    out.ty = match &api.returns {
                        Some(t) => TypeRef::Ext(Arc::from(t.as_str())),
                        None if !is_method => own_type().unwrap_or_default(),
                        None => TypeRef::Unknown,
                    };
                }
                Concept::RuntimeEnter => {
                    let r = if api.runtime == RuntimeArg::Current {
                        RuntimeRef::Current
                    } else {
                        rref
                    };
                    self.emit_model(span, EventKind::RuntimeEnter { runtime: r });
                }
                Concept::RuntimeClose => {
                    if let Origin::Var(v) = recv_origin {
                        self.var_flags[v as usize] |= CLOSED;
                    }
                    self.emit_model(span, EventKind::RuntimeClose {
                        runtime: rref,
                        api: api_name,
                    });
                }
                Concept::NeedsRuntime => {
                    self.emit_model(span, EventKind::NeedsRuntime { api: api_name });
                }
                Concept::Blocking => {
                    self.emit_model(span, EventKind::Blocking { api: path.clone() });
                }
                Concept::RuntimeBound => {
                    if recv_bound {
                        continue;
                    }
                    let at = self.emit_model(span, EventKind::Create {
                        resource: None,
                        api: path.clone(),
                        binds_now: api.binds_now,
                    });
                    self.pend(at, PendKind::Create, &mut out);
                    let last = last_seg(&path);
                    out.chain = last == "builder"
                        || parent.as_deref().is_some_and(types::is_builder_type);
                    if let Some(p) = &parent
                        && is_type_name(last_seg(p))
                        && (types::returns_self(last) || out.chain)
                    {
                        out.ty = TypeRef::Ext(Arc::from(p.as_str()));
                    }
                }
                Concept::ResourceClose => {
                    if let Origin::Var(v) = recv_origin
                        && self.var_kind(v) == VarKind::Resource
                    {
                        self.emit_model(span, EventKind::Close {
                            resource: ResourceRef::Local(VarId(v)),
                        });
                    }
                }
                _ => {}
            }
        }
        // A builder chain keeps its pending events through the call.
        if let Some(r) = &recv
            && r.chain
            && out.pend.is_empty()
            && !done.contains(&Concept::RuntimeNew)
        {
            out.pend.extend(r.pend.iter().copied());
            out.chain = !types::finishes_chain(last_seg(&path));
            if matches!(out.origin, Origin::None) {
                out.origin = r.origin.clone();
            }
            if matches!(out.ty, TypeRef::Unknown) {
                out.ty = r.ty.clone();
            }
        }
        out
    }

    // ----------------------------------------------------------------- macros

    fn lower_macro(&mut self, mac: &syn::Macro) -> Val {
        match macros::parse(mac) {
            MacroBody::Exprs(es) => {
                for e in &es {
                    self.lower_expr(e);
                }
            }
            MacroBody::Select(arms) => {
                for arm in &arms {
                    if let Some(f) = &arm.fut {
                        self.lower_expr(f);
                    }
                    if let Some(c) = &arm.cond {
                        self.lower_expr(c);
                    }
                    self.push_scope();
                    if let Some(p) = &arm.pat {
                        self.bind_pat(p, TypeRef::Unknown, 0);
                    }
                    if let Some(b) = &arm.body {
                        self.lower_expr(b);
                    }
                    self.pop_scope(None);
                }
            }
            MacroBody::LazyStatics(_) | MacroBody::ThreadLocals(_) | MacroBody::Opaque => {}
        }
        Val::default()
    }
}
