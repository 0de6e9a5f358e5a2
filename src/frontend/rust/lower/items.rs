//! The item passes of file lowering: the first collects the names of every module scope
//! (items, `use` imports, `mod` declarations), the second lowers functions, methods, trait
//! default methods and statics.

use std::sync::Arc;

use syn::{Block, Expr, Item, Signature, Type};

use super::typing::shared as typing_shared;
use super::{FnState, ImplCtx, Lowerer, Origin, PendKind, StructLike, TypeRef, key, strip};
use crate::frontend::rust::ir::{
    Anchor, FEvent, FKind, ItemIr, ModDecl, ModuleIr, StaticIr, SymPath, Target, TyExpr, TypeIr,
};
use crate::frontend::rust::macros::{self, MacroBody};
use crate::frontend::rust::resolve::{Res, ScopeMap, flatten_use};
use crate::frontend::rust::spans;
use crate::frontend::rust::types::{self, path_segs};
use crate::frontend::rust::{attrs, cfg};
use crate::kb::Match;
use crate::model::{Fact, FactKind, FnId, FnKind, Place, Span, StorageKind};

impl Lowerer<'_, '_> {
    // ----------------------------------------------------------------- pass 1: collect

    pub(super) fn add_item(&mut self, scope: u32, name: String, item: ItemIr) {
        let map = &mut self.maps[scope as usize];
        if let (Some(ItemIr::Fn(a)), ItemIr::Fn(b)) = (map.items.get(&name), &item)
            && a != b
        {
            map.repeated.insert(name.clone());
        }
        map.items.insert(name.clone(), item.clone());
        self.ir.modules[scope as usize].items.push((name, item));
    }

    pub(super) fn new_static(&mut self, name: String, span: Span, storage: StorageKind) -> u32 {
        self.ir.statics.push(StaticIr {
            name,
            span,
            storage,
            type_apis: Vec::new(),
            type_pkg: Vec::new(),
            init: None,
            lazy: false,
            init_creates: Vec::new(),
            scope: Some(self.scope),
            ty: TypeRef::Unknown,
        });
        self.ir.statics.len() as u32 - 1
    }

    pub(super) fn collect<'ast>(
        &mut self,
        items: &'ast [Item],
        scope: u32,
        structs: &mut Vec<(StructLike<'ast>, u32, u32)>,
        depth: u32,
    ) {
        if depth > 32 {
            return;
        }
        let saved = (self.scope, self.cfg_test, self.when);
        self.scope = scope;
        self.cfg_test = self.ir.modules[scope as usize].cfg_test;
        self.when = self.ir.modules[scope as usize].when;
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
                Item::Type(t) => {
                    self.note_alias(t, scope);
                    self.add_item(scope, t.ident.to_string(), ItemIr::Type(u32::MAX));
                }
                Item::Mod(m) => {
                    let name = m.ident.to_string();
                    let cfg_test = self.cfg_test || attrs::is_cfg_test(&m.attrs);
                    let cfg = cfg::of_attrs(&m.attrs, &mut self.ir.conds);
                    let when = self.ir.conds.and(self.when, cfg);
                    match &m.content {
                        Some((_, inner)) => {
                            self.ir.modules.push(ModuleIr {
                                parent: Some(scope),
                                name: name.clone(),
                                items: Vec::new(),
                                globs: Vec::new(),
                                cfg_test,
                                when,
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
                            self.when = self.ir.modules[scope as usize].when;
                        }
                        None => {
                            self.ir.mod_decls.push(ModDecl {
                                scope,
                                name: name.clone(),
                                path_attr: attrs::path_attr(&m.attrs),
                                cfg_test,
                                when,
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
        self.when = saved.2;
    }

    pub(super) fn new_type(&mut self, name: String, scope: u32) -> u32 {
        self.ir.types.push(TypeIr {
            name: name.clone(),
            scope,
            bound_api: None,
            field_pkg: Vec::new(),
            fields: Vec::new(),
            generic: Vec::new(),
        });
        let idx = self.ir.types.len() as u32 - 1;
        self.add_item(scope, name, ItemIr::Type(idx));
        idx
    }

    /// Classifies the `use` imports and globs of every scope once all items are known.
    pub(super) fn finish_scopes(&mut self) {
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
                    if let Some(s) = self.local_scope(&sp) {
                        self.maps[scope as usize].local_globs.push(s);
                    }
                    self.ir.modules[scope as usize].globs.push(sp);
                    self.maps[scope as usize].pkg_globs = true;
                }
                Res::Ext(p) => self.maps[scope as usize].ext_globs.push(p),
                _ => {}
            }
        }
    }

    /// The scope of this file that a package path names whole (`super`, `self`), if it is one.
    fn local_scope(&self, sp: &SymPath) -> Option<u32> {
        let Anchor::Module { scope, up } = sp.anchor else {
            return None;
        };
        if !sp.segs.is_empty() {
            return None;
        }
        let mut s = scope;
        for _ in 0..up {
            s = self.maps.get(s as usize)?.parent?;
        }
        Some(s)
    }

    pub(super) fn type_mentions(&self, ty: &Type) -> (Option<String>, Vec<SymPath>) {
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

    /// Whether a static of type `ty` starts out holding nothing runtime-bound, whatever its type
    /// names: its value (past a lazy cell, locks and pointers) is an `Option` or a collection,
    /// filled later by code the flow follows (`LazyLock<Mutex<Option<TcpStream>>>`). Names are
    /// resolved, so an alias (`use tokio::sync::Mutex as M`) reads as what it stands for.
    pub(super) fn starts_empty(&self, ty: &Type) -> bool {
        let mut ty = ty;
        for _ in 0..8 {
            let Type::Path(p) = ty else { return false };
            let Some(last) = p.path.segments.last() else {
                return false;
            };
            let Res::Ext(full) = self.resolve(&types::path_segs(&p.path)) else {
                return false;
            };
            let name = full.rsplit("::").next().unwrap_or(&full);
            if types::is_cell(name) || types::is_lock(&full) || types::is_transparent(&full) {
                match types::first_type_arg(&last.arguments) {
                    Some(inner) => ty = inner,
                    None => return false,
                }
                continue;
            }
            return matches!(
                name,
                "Option" | "Vec" | "VecDeque" | "HashMap" | "BTreeMap" | "HashSet" | "BTreeSet"
            );
        }
        false
    }

    pub(super) fn record_struct(&mut self, s: StructLike<'_>, scope: u32, idx: u32) {
        let saved = self.scope;
        self.scope = scope;
        let mut fields_out = Vec::new();
        let mut spans = Vec::new();
        let mut bound = None;
        let mut pkgs = Vec::new();
        let mut generic = Vec::new();
        let params: Vec<String> = match &s {
            StructLike::Struct(st) => &st.generics,
            StructLike::Enum(en) => &en.generics,
        }
        .type_params()
        .map(|p| p.ident.to_string())
        .collect();
        let mut visit = |this: &mut Self, fields: &syn::Fields, prefix: &str| {
            for (i, f) in fields.iter().enumerate() {
                let param = match &f.ty {
                    syn::Type::Path(tp) if tp.qself.is_none() => tp
                        .path
                        .get_ident()
                        .is_some_and(|id| params.iter().any(|p| id == p)),
                    _ => false,
                };
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
                let span = match &f.ident {
                    Some(id) => this.sp(id.span()),
                    None => this.sp(syn::spanned::Spanned::span(&f.ty)),
                };
                spans.push(span);
                if param {
                    generic.push(format!("{prefix}{name}"));
                    fields_out.push((format!("{prefix}{name}"), TypeRef::Unknown));
                    continue;
                }
                fields_out.push((format!("{prefix}{name}"), this.resolve_type(&f.ty)));
            }
        };
        // The derives that call their trait method on every field (`Default`, `Deserialize`).
        let kb = self.cx.kb.kb();
        let derived = |attrs: &[syn::Attribute], is_enum: bool| -> Vec<(String, String)> {
            kb.derives(crate::model::Language::Rust)
                .filter(|d| (d.enums || !is_enum) && attrs::derives(attrs, &d.name))
                .map(|d| (d.trait_.clone(), d.method.clone()))
                .collect()
        };
        let (name, derives, span) = match s {
            StructLike::Struct(st) => {
                visit(self, &st.fields, "");
                let span = self.sp(st.ident.span());
                (st.ident.to_string(), derived(&st.attrs, false), span)
            }
            StructLike::Enum(en) => {
                for v in &en.variants {
                    visit(self, &v.fields, &format!("{}::", v.ident));
                }
                let span = self.sp(en.ident.span());
                (en.ident.to_string(), derived(&en.attrs, true), span)
            }
        };
        for (trait_, method) in derives {
            self.derived_impl(&name, span, &trait_, &method, &fields_out, &spans);
        }
        let t = &mut self.ir.types[idx as usize];
        t.bound_api = bound;
        t.field_pkg = pkgs;
        t.fields = fields_out.clone();
        // A field of a type parameter has the type the literals give it: the linker knows.
        let own = TypeRef::Pkg(Arc::new(SymPath {
            anchor: Anchor::Module { scope, up: 0 },
            segs: vec![name.clone()],
        }));
        for (n, ty) in &mut fields_out {
            if generic.contains(n) {
                *ty = TypeRef::Deferred(Arc::new(TyExpr::Field(own.clone(), n.clone())));
            }
        }
        t.generic = generic;
        self.struct_fields.insert((scope, name), fields_out);
        self.scope = saved;
    }

    /// A derive that calls its trait method on every field (`#[derive(Default)]`): a
    /// `Name::method` that calls each field type's impl of the trait.
    fn derived_impl(
        &mut self,
        name: &str,
        span: Span,
        trait_: &str,
        method: &str,
        fields: &[(String, TypeRef)],
        spans: &[Span],
    ) {
        let id = self.new_fn(
            format!("{name}::{method}"),
            span,
            FnKind::Named,
            false,
            None,
        );
        let self_ty = SymPath {
            anchor: Anchor::Module {
                scope: self.scope,
                up: 0,
            },
            segs: vec![name.to_string()],
        };
        let f = &mut self.ir.fns[id as usize];
        f.impl_ty = Some(Arc::new(self_ty.clone()));
        f.trait_name = Some(trait_.to_string());
        f.is_trait_method = true;
        f.ret = TypeRef::Pkg(Arc::new(self_ty));
        for ((_, ty), span) in fields.iter().zip(spans) {
            // An optional field (`Option<T>`) is made by the same impl of `T`.
            let ty = match ty.peel() {
                TypeRef::Wrapped(inner) if method != "default" => inner.peel(),
                t => t,
            };
            if !matches!(ty, TypeRef::Pkg(_)) {
                continue;
            }
            f.events.push(FEvent {
                span: *span,
                loop_depth: 0,
                when: crate::model::CondId::TRUE,
                region: 0,
                kind: FKind::Ref {
                    target: Target::Implicit {
                        ty: ty.clone(),
                        trait_: trait_.to_string(),
                        name: method.to_string(),
                    },
                    as_value: false,
                    result: None,
                },
            });
        }
    }

    // ----------------------------------------------------------------- pass 2: items

    pub(super) fn lower_items(&mut self, items: &[Item], scope: u32, depth: u32) {
        if depth > 32 {
            return;
        }
        let saved = (self.scope, self.cfg_test, self.when);
        self.scope = scope;
        self.cfg_test = self.ir.modules[scope as usize].cfg_test;
        self.when = self.ir.modules[scope as usize].when;
        for item in items {
            self.lower_item(item, depth);
        }
        self.scope = saved.0;
        self.cfg_test = saved.1;
        self.when = saved.2;
    }

    pub(super) fn lower_item(&mut self, item: &Item, depth: u32) {
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
                    self.lower_static(idx, &s.ty, &s.expr, false);
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

    pub(super) fn lower_fn_item(
        &mut self,
        id: u32,
        attrs_: &[syn::Attribute],
        vis: &syn::Visibility,
        sig: &Signature,
        block: &Block,
        trait_method: bool,
    ) {
        let mut a = attrs::fn_attrs(attrs_, |name| match self.resolve(&[name.to_string()]) {
            crate::frontend::rust::resolve::Res::Ext(full) => {
                Some(full.split("::").map(str::to_string).collect())
            }
            _ => None,
        });
        // `#[test]` on an `async fn` is some crate's test macro the analysis does not know
        // (std's cannot be async): which executor runs it is unknown.
        if sig.asyncness.is_some() && matches!(&a.entry, Some(crate::model::Entry::Repeated { .. }))
        {
            a.entry = None;
        }
        let cfg_test = attrs::is_cfg_test(attrs_);
        let cfg = cfg::of_attrs(attrs_, &mut self.ir.conds);
        let fn_when = self.ir.fns[id as usize].when;
        let fn_when = self.ir.conds.and(fn_when, cfg);
        self.ir.fns[id as usize].when = fn_when;
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
            f.self_by_value = sig
                .receiver()
                .is_some_and(|r| r.reference.is_none() && r.colon_token.is_none());
            f.ret = ret;
            f.is_root_main =
                f.name == "main" && self.scope == 0 && f.impl_ty.is_none() && self.stack.is_empty();
        }
        let saved_test = (self.cfg_test, self.when);
        self.cfg_test |= cfg_test;
        self.when = self.ir.conds.and(self.when, fn_when);
        self.lower_fn_body(id, sig, block);
        (self.cfg_test, self.when) = saved_test;
        // A `#[should_panic]` test asserts that its whole body fails.
        if let Some(expected) = a.expects_panic {
            let span = self.sp(block.brace_token.span.join());
            self.ir.fns[id as usize].events.push(super::FEvent {
                span,
                loop_depth: 0,
                when: crate::model::CondId::TRUE,
                region: 0,
                kind: super::FKind::Model(crate::model::EventKind::ExpectsFailure {
                    what: if expected.is_empty() {
                        Vec::new()
                    } else {
                        vec![expected]
                    },
                    how: crate::model::Asserted::Fails,
                }),
            });
        }
    }

    pub(super) fn lower_fn_body(&mut self, id: u32, sig: &Signature, block: &Block) {
        let saved_depth = self.depth;
        // The type parameters of the function, and those of its impl (`impl<S: Store>`).
        let mut bounds = self.generic_traits.clone();
        bounds.extend(self.generic_traits_of(&sig.generics));
        let saved_generics = std::mem::replace(&mut self.generic_traits, bounds);
        self.stack.push(FnState::new(id, true, false));
        for (i, input) in sig.inputs.iter().enumerate() {
            // Parameters are numbered receiver first, as call facts number arguments.
            self.pat_place = Some(Place::Param(FnId(id), i as u32));
            match input {
                syn::FnArg::Receiver(r) => {
                    let ty = match self.imp.as_ref().and_then(|i| i.self_ty.clone()) {
                        Some(sp) => TypeRef::Pkg(sp),
                        None => TypeRef::Unknown,
                    };
                    if r.reference.is_none() && r.colon_token.is_none() {
                        // `self` by value: dropped at the end of the method.
                        self.bind_owned("self".to_string(), ty, Origin::None);
                    } else {
                        self.bind("self".to_string(), typing_shared(ty), Origin::None);
                    }
                }
                syn::FnArg::Typed(pt) => {
                    // `State(db): State<Db>`: see `bind_pat`.
                    if let Some((inner, arg)) = self.newtype_field(&pt.pat, &pt.ty) {
                        let ty = self.resolve_type(arg);
                        self.bind_pat(inner, ty, 0);
                        self.pat_place = None;
                        continue;
                    }
                    let ty = self.resolve_type(&pt.ty);
                    match &*pt.pat {
                        syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                            self.bind_owned(pi.ident.to_string(), ty, Origin::None);
                        }
                        pat => self.bind_pat(pat, ty, 0),
                    }
                }
            }
            self.pat_place = None;
        }
        if let Some(sc) = self.stack.last_mut().and_then(|st| st.scopes.last_mut()) {
            for b in &mut sc.bindings {
                b.param = true;
            }
        }
        let tail = self.lower_block(block, true);
        if let Some(syn::Stmt::Expr(e, None)) = block.stmts.last() {
            self.returns(e, &tail);
        }
        let params = self
            .stack
            .last_mut()
            .and_then(|st| st.scopes.last_mut())
            .map(|sc| std::mem::take(&mut sc.drops))
            .unwrap_or_default();
        self.drop_slots(&params, block.brace_token.span.close());
        self.ir.fns[id as usize].diverges = super::block_diverges(block);
        self.stack.pop();
        self.depth = saved_depth;
        self.generic_traits = saved_generics;
    }

    /// The type parameters of `generics` bounded by a trait of the package (`S: Store`, or
    /// `where S: Store`), with that trait: a value of such a type has the trait's methods.
    fn generic_traits_of(&self, generics: &syn::Generics) -> Vec<(String, Res)> {
        let mut out = Vec::new();
        let mut add = |name: String,
                       bounds: &syn::punctuated::Punctuated<
            syn::TypeParamBound,
            syn::Token![+],
        >| {
            for b in bounds {
                if let syn::TypeParamBound::Trait(tb) = b
                    && let r @ Res::Pkg(_) = self.resolve(&path_segs(&tb.path))
                {
                    out.push((name, r));
                    return;
                }
            }
        };
        for p in &generics.params {
            if let syn::GenericParam::Type(tp) = p {
                add(tp.ident.to_string(), &tp.bounds);
            }
        }
        if let Some(w) = &generics.where_clause {
            for pred in &w.predicates {
                if let syn::WherePredicate::Type(pt) = pred
                    && let Type::Path(tp) = &pt.bounded_ty
                    && let Some(id) = tp.path.get_ident()
                {
                    add(id.to_string(), &pt.bounds);
                }
            }
        }
        out
    }

    pub(super) fn lower_impl(&mut self, imp: &syn::ItemImpl) {
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
        let pkg_trait = imp
            .trait_
            .as_ref()
            .is_some_and(|(_, p, _)| matches!(self.resolve(&path_segs(p)), Res::Pkg(_)));
        // A library trait imported under another name (`use std::str::FromStr as Parse`) is
        // known by its own.
        let trait_path =
            imp.trait_
                .as_ref()
                .and_then(|(_, p, _)| match self.resolve(&path_segs(p)) {
                    Res::Ext(full) => Some(full),
                    _ => None,
                });
        let trait_name = imp.trait_.as_ref().and_then(|(_, p, _)| {
            let written = p.segments.last()?.ident.to_string();
            match self.resolve(&path_segs(p)) {
                Res::Ext(full) => Some(full.rsplit("::").next().unwrap_or(&written).to_string()),
                _ => Some(written),
            }
        });
        let saved = self.imp.replace(ImplCtx {
            self_ty: self_ty.clone(),
        });
        let impl_bounds = self.generic_traits_of(&imp.generics);
        let saved_generics = std::mem::replace(&mut self.generic_traits, impl_bounds);
        let saved_test = (self.cfg_test, self.when);
        self.cfg_test |= attrs::is_cfg_test(&imp.attrs);
        let cfg = cfg::of_attrs(&imp.attrs, &mut self.ir.conds);
        self.when = self.ir.conds.and(self.when, cfg);
        for it in &imp.items {
            if let syn::ImplItem::Fn(f) = it {
                let name = format!("{type_name}::{}", f.sig.ident);
                let span = self.sp(f.sig.ident.span());
                let id = self.new_fn(name, span, FnKind::Named, f.sig.asyncness.is_some(), None);
                self.ir.fns[id as usize].impl_ty = self_ty.clone();
                self.ir.fns[id as usize].trait_name = trait_name.clone();
                self.ir.fns[id as usize].pkg_trait = pkg_trait;
                self.ir.fns[id as usize].task_call = trait_path.as_deref().is_some_and(|t| {
                    self.cx.kb.kb().task_call(
                        crate::model::Language::Rust,
                        t,
                        &f.sig.ident.to_string(),
                    )
                });
                self.lower_fn_item(id, &f.attrs, &f.vis, &f.sig, &f.block, trait_impl);
            }
        }
        (self.cfg_test, self.when) = saved_test;
        self.generic_traits = saved_generics;
        self.imp = saved;
    }

    pub(super) fn lower_trait(&mut self, t: &syn::ItemTrait) {
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
                self.ir.fns[id as usize].pkg_trait = true;
                self.lower_fn_item(id, &f.attrs, &t.vis, &f.sig, block, true);
            }
        }
        self.imp = saved;
    }

    /// Lowers a static's type and initialiser; `lazy` when a macro makes its initialiser run
    /// at the first dereference (`lazy_static!`).
    pub(super) fn lower_static(&mut self, idx: u32, ty: &Type, init: &Expr, lazy: bool) {
        // A static that starts empty holds what later code stores, which the flow follows.
        let (api, pkg) = if self.starts_empty(ty) {
            (None, Vec::new())
        } else {
            self.type_mentions(ty)
        };
        let in_body = !self.stack.is_empty();
        let lib_ty = match self.resolve_type(crate::frontend::rust::types::cell_content(ty)) {
            t @ TypeRef::Ext(_) => t,
            _ => TypeRef::Unknown,
        };
        {
            let s = &mut self.ir.statics[idx as usize];
            s.ty = lib_ty;
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
        // `LazyLock::new(make_x)`: the named function is the initialiser, called at the first
        // dereference as a closure would be.
        let init_fn = match strip(init) {
            Expr::Call(c) if c.args.len() == 1 && closure.is_none() => {
                let f = &c.args[0];
                self.names_package_fn(f)
                    .then(|| call_without_args(f))
                    .filter(|_| crate::frontend::rust::types::is_lazy_cell(ty))
            }
            _ => None,
        };
        let (id, tail) = match closure {
            Some(cl) => self.lower_closure(cl, None, true),
            None => {
                let span = self.sp2(spans::first(init), spans::last(init));
                let id = self.new_fn(format!("<init {name}>"), span, FnKind::Closure, false, None);
                self.stack.push(FnState::new(id, true, false));
                let v = self.lower_expr(init_fn.as_ref().unwrap_or(init));
                self.returns(init, &v);
                self.stack.pop();
                (id, v)
            }
        };
        self.depth = saved_depth;
        // The static holds what its initialiser returns.
        let target = crate::frontend::rust::ir::Target::Static(idx);
        if let Some(Place::Cell(cell)) = self.static_cell(&target) {
            let span = self.ir.fns[id as usize].span;
            self.ir.flow.push(Fact {
                func: FnId(id),
                span,
                kind: FactKind::Store {
                    cell,
                    from: Place::Ret(FnId(id)),
                    overwrite: false,
                },
            });
        }
        let s = &mut self.ir.statics[idx as usize];
        s.init = Some(id);
        s.lazy = lazy
            || ((closure.is_some() || init_fn.is_some())
                && crate::frontend::rust::types::is_lazy_cell(ty));
        s.init_creates = tail
            .pend
            .iter()
            .filter(|p| p.kind == PendKind::Create)
            .map(|p| (p.f, p.ev))
            .collect();
    }
}

/// The call `f()` of a function named by path `f`, spanned where `f` is.
fn call_without_args(f: &Expr) -> Expr {
    Expr::Call(syn::ExprCall {
        attrs: Vec::new(),
        func: Box::new(f.clone()),
        paren_token: syn::token::Paren(spans::last(f)),
        args: syn::punctuated::Punctuated::new(),
    })
}
