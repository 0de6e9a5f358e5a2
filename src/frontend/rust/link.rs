//! Linking: mounts the files of a program into the module trees of its targets, resolves the
//! symbolic references of every file, and assembles one [`Program`].
//!
//! Every target (library, binary, test, example, bench, build script, stand-alone file) is a
//! crate with its own module tree and its own group. A file reachable from several roots (a
//! `tests/common/mod.rs` declared by several tests) is lowered once and mounted in each tree;
//! its functions belong to the group of its first mount. Files of a package reached by no
//! `mod` item are mounted by their path under `src/` (best effort), or become crates of their own.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::{Path, PathBuf};

mod typing;

use std::cell::RefCell;

use super::ir::{Anchor, FKind, FileIr, ItemIr, SymPath, Target, TypeRef};
use super::kbview::KbView;
use super::package::{ProgramPlan, TargetKind, TargetPlan, normalize};
use crate::model::{
    CondId, Conds, Entry, Event, EventKind, FileInfo, FnId, Function, Global, GlobalId, Language,
    Program, Reach, ResourceRef, RunKind, RuntimeRef, VarId, VarKind,
};
use typing::RTy;

/// Items kept per path in the package's name table: more than a name can hold in valid code
/// (one per namespace, plus `cfg`-alternative definitions).
const MAX_ITEMS_PER_NAME: usize = 8;

#[derive(Clone, Debug, PartialEq)]
enum LItem {
    Fn(u32),
    Static(u32, u32),
    Type(u32, String),
    Alias(u32, SymPath),
}

struct Linker<'p> {
    plan: &'p ProgramPlan,
    irs: &'p [Option<FileIr>],
    kb: &'p KbView<'p>,
    targets: Vec<TargetPlan>,
    /// Mounts of each file: (target, absolute module path).
    mounts: Vec<Vec<(u32, Vec<String>)>>,
    /// The crate of files mounted by path in a package with no library or binary root.
    by_path_crate: Vec<(u32, u32)>,
    file_test: Vec<bool>,
    /// Build condition each file is mounted under (the `cfg`s of the `mod` items leading to
    /// it), in `conds`; `TRUE` when mounted under different ones.
    file_when: Vec<Option<CondId>>,
    /// The program's conditions.
    conds: Conds,
    table: HashMap<(u32, String), Vec<LItem>>,
    methods: HashMap<(u32, String, String), Vec<u32>>,
    by_name: HashMap<String, Vec<u32>>,
    /// Methods of trait impls by the target of the impl's self type, the trait's name and the
    /// method's name: what a call on a `dyn Trait` receiver may reach.
    trait_methods: HashMap<(u32, String, String), Vec<u32>>,
    fn_base: Vec<u32>,
    var_base: Vec<u32>,
    /// Declaration of each struct or enum: (file, index into its types).
    type_decls: HashMap<(u32, String), (u32, u32)>,
    /// Type aliases by canonical key: (declaring file, the aliased type).
    alias_types: HashMap<(u32, String), (u32, TypeRef)>,
    /// Declared return types of functions, as computed so far.
    rets: RefCell<HashMap<u32, RTy>>,
    /// Struct literals' field values by (target, type key, field): (file, value type).
    literals: RefCell<Option<typing::Literals<'p>>>,
}

fn join(segs: &[String]) -> String {
    segs.join("::")
}

fn inline_chain(ir: &FileIr, scope: u32) -> Vec<String> {
    let mut names = Vec::new();
    let mut cur = Some(scope);
    let mut guard = 0;
    while let Some(s) = cur {
        guard += 1;
        if guard > 64 {
            break;
        }
        let Some(m) = ir.modules.get(s as usize) else {
            break;
        };
        if m.parent.is_some() {
            names.push(m.name.clone());
        }
        cur = m.parent;
    }
    names.reverse();
    names
}

fn is_mod_rs(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "mod.rs")
}

impl<'p> Linker<'p> {
    fn ir(&self, f: u32) -> Option<&'p FileIr> {
        self.irs.get(f as usize).and_then(|x| x.as_ref())
    }

    // ----------------------------------------------------------------- module trees

    fn mount_tree(
        &mut self,
        by_path: &HashMap<&PathBuf, u32>,
        root: u32,
        target: u32,
        abs: Vec<String>,
        root_is_mod_rs: bool,
    ) {
        let mut work = vec![(root, abs, root_is_mod_rs)];
        let mut steps = 0;
        while let Some((f, abs, mod_rs)) = work.pop() {
            steps += 1;
            if steps > 100_000 {
                break;
            }
            if self.mounts[f as usize].iter().any(|(t, _)| *t == target) {
                continue;
            }
            self.mounts[f as usize].push((target, abs.clone()));
            let Some(ir) = self.ir(f) else { continue };
            let path = &self.plan.paths[f as usize];
            let Some(dir) = path.parent() else { continue };
            let base = if mod_rs {
                dir.to_path_buf()
            } else {
                match path.file_stem() {
                    Some(stem) => dir.join(stem),
                    None => continue,
                }
            };
            for d in &ir.mod_decls {
                let chain = inline_chain(ir, d.scope);
                let mut b = base.clone();
                for c in &chain {
                    b.push(c);
                }
                let candidates: Vec<PathBuf> = match &d.path_attr {
                    Some(p) if d.scope == 0 => vec![dir.join(p)],
                    Some(p) => vec![b.join(p)],
                    None => vec![
                        b.join(format!("{}.rs", d.name)),
                        b.join(&d.name).join("mod.rs"),
                    ],
                };
                let Some(child) = candidates
                    .iter()
                    .find_map(|c| by_path.get(&normalize(c)).copied())
                else {
                    continue;
                };
                if d.cfg_test || ir.modules.get(d.scope as usize).is_some_and(|m| m.cfg_test) {
                    self.file_test[child as usize] = true;
                }
                let outer = self.file_when[f as usize].unwrap_or(CondId::TRUE);
                let own = self.conds.import(&ir.conds, d.when);
                let when = self.conds.and(outer, own);
                let slot = &mut self.file_when[child as usize];
                *slot = match *slot {
                    Some(w) if w != when => Some(CondId::TRUE),
                    _ => Some(when),
                };
                let mut child_abs = abs.clone();
                child_abs.extend(chain);
                child_abs.push(d.name.clone());
                let child_mod_rs = is_mod_rs(&self.plan.paths[child as usize]);
                work.push((child, child_abs, child_mod_rs));
            }
        }
    }

    fn mount_all(&mut self) {
        let plan = self.plan;
        let by_path: HashMap<&PathBuf, u32> = plan
            .paths
            .iter()
            .enumerate()
            .map(|(i, p)| (p, i as u32))
            .collect();
        for t in 0..self.targets.len() {
            let root = self.targets[t].root;
            self.mount_tree(&by_path, root, t as u32, Vec::new(), true);
        }
        // A file no `mod` item reaches that declares `mod m;` with `m.rs` (or `m/mod.rs`)
        // beside it, not in a folder of its own name, is a crate root (a test, an example or a
        // script): only a root's modules sit there.
        for f in 0..self.plan.files.len() {
            if self.mounts[f].is_empty() && self.roots_siblings(&by_path, f) {
                self.mount_standalone(&by_path, f);
            }
        }
        for f in 0..self.plan.files.len() {
            if !self.mounts[f].is_empty() {
                continue;
            }
            if let Some((t, abs)) = self.mount_by_path(f) {
                let mod_rs = is_mod_rs(&self.plan.paths[f]);
                self.mount_tree(&by_path, f as u32, t, abs, mod_rs);
                continue;
            }
            self.mount_standalone(&by_path, f);
        }
    }

    /// Makes file `f` the root of a target of its own and mounts its module tree.
    fn mount_standalone(&mut self, by_path: &HashMap<&PathBuf, u32>, f: usize) {
        self.targets.push(TargetPlan {
            kind: TargetKind::Standalone,
            root: f as u32,
            package: self.plan.file_pkg[f],
        });
        let t = self.targets.len() as u32 - 1;
        self.mount_tree(by_path, f as u32, t, Vec::new(), true);
    }

    /// Whether file `f` (no `mod.rs`) declares an outline module found only beside it.
    fn roots_siblings(&self, by_path: &HashMap<&PathBuf, u32>, f: usize) -> bool {
        let path = &self.plan.paths[f];
        if is_mod_rs(path) {
            return false;
        }
        let (Some(ir), Some(dir), Some(stem)) =
            (self.ir(f as u32), path.parent(), path.file_stem())
        else {
            return false;
        };
        let found = |base: &Path, name: &str| {
            [
                base.join(format!("{name}.rs")),
                base.join(name).join("mod.rs"),
            ]
            .iter()
            .any(|c| by_path.contains_key(&normalize(c)))
        };
        let own = dir.join(stem);
        ir.mod_decls.iter().any(|d| {
            d.scope == 0 && d.path_attr.is_none() && found(dir, &d.name) && !found(&own, &d.name)
        })
    }

    /// A file under the package's `src/` that no `mod` item reaches and that is no crate root
    /// of its own (no `fn main`): mounted at the module path its file path suggests, in the
    /// library (or the first binary), or, in a package with neither (a subset of a crate), in
    /// one crate made of such files.
    fn mount_by_path(&mut self, f: usize) -> Option<(u32, Vec<String>)> {
        let pkg = self.plan.file_pkg[f]?;
        let src = &self.plan.packages[pkg as usize].src;
        let rel = self.plan.paths[f].strip_prefix(src).ok()?;
        let mut abs: Vec<String> = rel
            .components()
            .filter_map(|c| c.as_os_str().to_str().map(str::to_string))
            .collect();
        let last = abs.pop()?;
        let stem = last.strip_suffix(".rs")?;
        if stem != "mod" {
            abs.push(stem.to_string());
        }
        if abs.is_empty() || abs.first().is_some_and(|s| s == "bin") {
            return None;
        }
        let own_root = self
            .ir(f as u32)
            .is_some_and(|ir| ir.fns.iter().any(|func| func.is_root_main));
        if own_root {
            return None;
        }
        let of_pkg = |k: TargetKind| {
            self.targets
                .iter()
                .position(|t| t.package == Some(pkg) && t.kind == k)
        };
        let t = match of_pkg(TargetKind::Lib).or_else(|| of_pkg(TargetKind::Bin)) {
            Some(t) => t,
            None => match self.by_path_crate.iter().find(|(p, _)| *p == pkg) {
                Some(&(_, t)) => t as usize,
                None => {
                    self.targets.push(TargetPlan {
                        kind: TargetKind::Standalone,
                        root: f as u32,
                        package: Some(pkg),
                    });
                    let t = self.targets.len() - 1;
                    self.by_path_crate.push((pkg, t as u32));
                    t
                }
            },
        };
        Some((t as u32, abs))
    }

    fn primary(&self, f: u32) -> Option<&(u32, Vec<String>)> {
        self.mounts.get(f as usize).and_then(|m| m.first())
    }

    fn scope_abs(&self, f: u32, abs: &[String], scope: u32) -> Vec<String> {
        let mut out = abs.to_vec();
        if let Some(ir) = self.ir(f) {
            out.extend(inline_chain(ir, scope));
        }
        out
    }

    // ----------------------------------------------------------------- item table

    fn build_table(&mut self) {
        for f in 0..self.plan.files.len() as u32 {
            let Some(ir) = self.ir(f) else { continue };
            let mounts = self.mounts[f as usize].clone();
            let primary = mounts.first().cloned();
            // The file's aliases by (module scope, name), the first declared of each.
            let mut aliases: HashMap<(u32, &str), &TypeRef> = HashMap::default();
            for (scope, name, ty) in &ir.aliases {
                aliases.entry((*scope, name.as_str())).or_insert(ty);
            }
            for (t, abs) in &mounts {
                for (k, m) in ir.modules.iter().enumerate() {
                    let sabs = self.scope_abs(f, abs, k as u32);
                    for (name, item) in &m.items {
                        let mut segs = sabs.clone();
                        segs.push(name.clone());
                        let it = match item {
                            ItemIr::Fn(id) => LItem::Fn(self.fn_base[f as usize] + id),
                            ItemIr::Static(i) => LItem::Static(f, *i),
                            ItemIr::Type(idx) => {
                                // Canonical key: the declaration in the primary mount.
                                let Some((pt, pabs)) = &primary else { continue };
                                let mut c = self.scope_abs(f, pabs, k as u32);
                                c.push(name.clone());
                                if *idx != u32::MAX {
                                    self.type_decls.insert((*pt, join(&c)), (f, *idx));
                                } else if let Some(&ty) = aliases.get(&(k as u32, name.as_str())) {
                                    self.alias_types.insert((*pt, join(&c)), (f, ty.clone()));
                                }
                                LItem::Type(*pt, join(&c))
                            }
                            ItemIr::Alias(sp) => {
                                let mut sp = sp.clone();
                                if let Anchor::Module { scope, .. } = &mut sp.anchor {
                                    *scope = k as u32;
                                }
                                LItem::Alias(f, sp)
                            }
                            ItemIr::Module(_) | ItemIr::ModFile(_) => continue,
                        };
                        // A name has at most one item per namespace in valid code; repeated or
                        // conflicting imports (`use store;` many times over) would make every
                        // lookup through them branch that many ways at each alias step.
                        let items = self.table.entry((*t, join(&segs))).or_default();
                        if items.len() < MAX_ITEMS_PER_NAME && !items.contains(&it) {
                            items.push(it);
                        }
                    }
                }
            }
        }
        // Methods by receiver type and by name.
        for f in 0..self.plan.files.len() as u32 {
            let Some(ir) = self.ir(f) else { continue };
            for (i, func) in ir.fns.iter().enumerate() {
                let Some(sp) = &func.impl_ty else { continue };
                let id = self.fn_base[f as usize] + i as u32;
                let method = func
                    .name
                    .rsplit("::")
                    .next()
                    .unwrap_or(&func.name)
                    .to_string();
                // Trait methods share their names with every other implementation of the
                // trait (`read`, `poll`), so a name alone never designates one of them.
                if func.has_self && !func.is_trait_method {
                    self.by_name.entry(method.clone()).or_default().push(id);
                }
                for item in self.resolve_sym(f, sp, 0) {
                    if let LItem::Type(t, key) = item {
                        if func.is_trait_method
                            && let Some(tn) = &func.trait_name
                        {
                            self.trait_methods
                                .entry((t, tn.clone(), method.clone()))
                                .or_default()
                                .push(id);
                        }
                        self.methods
                            .entry((t, key, method.clone()))
                            .or_default()
                            .push(id);
                    }
                }
            }
        }
    }

    fn anchor_pos(&self, f: u32, anchor: &Anchor) -> Option<(u32, Vec<String>)> {
        let (t, abs) = self.primary(f)?;
        match anchor {
            Anchor::Crate => Some((*t, Vec::new())),
            Anchor::Named(name) => {
                let pkg = self.plan.file_pkg[f as usize]?;
                let (_, dep) = self.plan.packages[pkg as usize]
                    .crates
                    .iter()
                    .find(|(n, _)| n == name)?;
                let lib = self
                    .targets
                    .iter()
                    .position(|t| t.package == Some(*dep) && t.kind == TargetKind::Lib)?;
                Some((lib as u32, Vec::new()))
            }
            Anchor::Module { scope, up } => {
                let mut s = self.scope_abs(f, abs, *scope);
                for _ in 0..*up {
                    s.pop()?;
                }
                Some((*t, s))
            }
            Anchor::Glob { .. } => None,
        }
    }

    fn resolve_sym(&self, f: u32, sp: &SymPath, depth: u32) -> Vec<LItem> {
        if depth > 8 {
            return Vec::new();
        }
        if let Anchor::Glob { scope } = sp.anchor {
            let Some(ir) = self.ir(f) else {
                return Vec::new();
            };
            let Some(m) = ir.modules.get(scope as usize) else {
                return Vec::new();
            };
            for g in &m.globs {
                let mut full = g.clone();
                if let Anchor::Module { scope: s, .. } = &mut full.anchor {
                    *s = scope;
                }
                full.segs.extend(sp.segs.iter().cloned());
                let r = self.resolve_sym(f, &full, depth + 1);
                if !r.is_empty() {
                    return r;
                }
            }
            return Vec::new();
        }
        let Some((t, mut segs)) = self.anchor_pos(f, &sp.anchor) else {
            return Vec::new();
        };
        segs.extend(sp.segs.iter().cloned());
        self.resolve_abs(t, &segs, depth + 1)
    }

    fn resolve_abs(&self, t: u32, segs: &[String], depth: u32) -> Vec<LItem> {
        if depth > 8 || segs.is_empty() {
            return Vec::new();
        }
        if let Some(items) = self.table.get(&(t, join(segs))) {
            let mut out = Vec::new();
            for it in items {
                match it {
                    LItem::Alias(f, sp) => out.extend(self.resolve_sym(*f, sp, depth + 1)),
                    other => out.push(other.clone()),
                }
            }
            if !out.is_empty() {
                return out;
            }
        }
        for i in (1..segs.len()).rev() {
            let Some(items) = self.table.get(&(t, join(&segs[..i]))) else {
                continue;
            };
            for it in items {
                match it {
                    LItem::Alias(f, sp) => {
                        let mut sp = sp.clone();
                        sp.segs.extend(segs[i..].iter().cloned());
                        let r = self.resolve_sym(*f, &sp, depth + 1);
                        if !r.is_empty() {
                            return r;
                        }
                    }
                    LItem::Type(tt, key) if i + 1 == segs.len() => {
                        if let Some(ids) = self.methods.get(&(*tt, key.clone(), segs[i].clone())) {
                            return ids.iter().map(|&id| LItem::Fn(id)).collect();
                        }
                    }
                    _ => {}
                }
            }
        }
        Vec::new()
    }

    fn resolve_target(&self, f: u32, target: &Target) -> Vec<LItem> {
        self.resolve_target_at(f, target, 0)
    }

    fn resolve_target_at(&self, f: u32, target: &Target, depth: u32) -> Vec<LItem> {
        match target {
            Target::Fn(id) => vec![LItem::Fn(self.fn_base[f as usize] + id)],
            Target::Static(i) => vec![LItem::Static(f, *i)],
            Target::Path(sp) => self.resolve_sym(f, sp, 0),
            Target::Method { ty, name } => self.resolve_method(f, ty, name, depth),
            Target::Implicit { ty, trait_, name } => {
                self.resolve_implicit(f, ty, trait_, name, depth)
            }
            Target::Installed { trait_, name } => self.installed_impls(trait_, name),
        }
    }

    /// The initialisers of the lazy statics a reference (written in file `f`) reads.
    fn lazy_inits(&self, f: u32, target: &Target) -> Vec<FnId> {
        if !matches!(target, Target::Static(_) | Target::Path(_)) {
            return Vec::new();
        }
        let mut out = Vec::new();
        for it in self.resolve_target(f, target) {
            if let LItem::Static(sf, si) = it
                && let Some(s) = self.ir(sf).and_then(|ir| ir.statics.get(si as usize))
                && s.lazy
                && let Some(init) = s.init
            {
                let id = FnId(self.fn_base[sf as usize] + init);
                if !out.contains(&id) {
                    out.push(id);
                }
            }
        }
        out
    }

    /// Every impl of the package of `trait_`'s method `name`, when some file installs a value
    /// of the trait; none otherwise.
    fn installed_impls(&self, trait_: &str, name: &str) -> Vec<LItem> {
        let installed = (0..self.plan.files.len() as u32)
            .filter_map(|f| self.ir(f))
            .any(|ir| ir.installs.iter().any(|t| t == trait_));
        if !installed {
            return Vec::new();
        }
        let mut ids: Vec<u32> = self
            .trait_methods
            .iter()
            .filter(|((_, t, m), _)| t == trait_ && m == name)
            .flat_map(|(_, ids)| ids.iter().copied())
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().map(LItem::Fn).collect()
    }

    // ----------------------------------------------------------------- runtime-bound types

    fn bound_types(&self) -> HashMap<(u32, String), String> {
        let mut out: HashMap<(u32, String), String> = HashMap::default();
        let mut decls: Vec<((u32, String), u32, usize)> = Vec::new();
        for f in 0..self.plan.files.len() as u32 {
            let (Some(ir), Some((t, abs))) = (self.ir(f), self.primary(f)) else {
                continue;
            };
            for (i, ty) in ir.types.iter().enumerate() {
                let mut c = self.scope_abs(f, abs, ty.scope);
                c.push(ty.name.clone());
                let key = (*t, join(&c));
                if let Some(api) = &ty.bound_api {
                    out.insert(key.clone(), api.clone());
                }
                decls.push((key, f, i));
            }
        }
        // A type holding a runtime-bound type is runtime-bound (a few rounds suffice).
        for _ in 0..3 {
            let mut changed = false;
            for (key, f, i) in &decls {
                if out.contains_key(key) {
                    continue;
                }
                let Some(ir) = self.ir(*f) else { continue };
                let found = ir.types[*i].field_pkg.iter().find_map(|sp| {
                    self.resolve_sym(*f, sp, 0)
                        .into_iter()
                        .find_map(|it| match it {
                            LItem::Type(t, k) => out.get(&(t, k)).cloned(),
                            _ => None,
                        })
                });
                if let Some(api) = found {
                    out.insert(key.clone(), api);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        out
    }

    fn init_create_api(&self, f: u32, init: u32) -> Option<String> {
        let ir = self.ir(f)?;
        let mut work = vec![init];
        let mut seen = HashSet::default();
        while let Some(id) = work.pop() {
            if !seen.insert(id) || seen.len() > 256 {
                continue;
            }
            let func = ir.fns.get(id as usize)?;
            for ev in &func.events {
                match &ev.kind {
                    FKind::Model(EventKind::Create { api, .. }) => return Some(api.to_string()),
                    FKind::Model(EventKind::Run {
                        body,
                        how: RunKind::Inline | RunKind::Future,
                        ..
                    }) => work.push(body.0),
                    _ => {}
                }
            }
        }
        None
    }

    fn type_kind(
        &self,
        f: u32,
        ty: &TypeRef,
        bound: &HashMap<(u32, String), String>,
    ) -> Option<VarKind> {
        match ty.peel() {
            TypeRef::Ext(t) => self.kb.type_kind(t),
            TypeRef::Pkg(sp) => self
                .resolve_sym(f, sp, 0)
                .into_iter()
                .find_map(|it| match it {
                    LItem::Type(t, k) if bound.contains_key(&(t, k.clone())) => {
                        Some(VarKind::Resource)
                    }
                    _ => None,
                }),
            _ => None,
        }
    }
}

fn offset_kind(kind: &EventKind, fb: u32, vb: u32) -> EventKind {
    let v = |x: VarId| VarId(x.0 + vb);
    let r = |x: RuntimeRef| match x {
        RuntimeRef::Var(id) => RuntimeRef::Var(v(id)),
        other => other,
    };
    let res = |x: ResourceRef| match x {
        ResourceRef::Local(id) => ResourceRef::Local(v(id)),
        other => other,
    };
    match kind.clone() {
        EventKind::Call { callees, result } => EventKind::Call {
            callees,
            result: result.map(v),
        },
        EventKind::Run {
            body,
            how,
            runtime,
            handle,
            api,
        } => EventKind::Run {
            body: FnId(body.0 + fb),
            how,
            runtime: r(runtime),
            handle: match handle {
                crate::model::HandleFate::Bound(id) => crate::model::HandleFate::Bound(v(id)),
                other => other,
            },
            api,
        },
        EventKind::RuntimeNew {
            var,
            flavor,
            disabled,
            api,
        } => EventKind::RuntimeNew {
            var: var.map(v),
            flavor,
            disabled,
            api,
        },
        EventKind::RuntimeEnter { runtime, api } => EventKind::RuntimeEnter {
            runtime: r(runtime),
            api,
        },
        EventKind::HandleOf { runtime, var } => EventKind::HandleOf {
            runtime: r(runtime),
            var: var.map(v),
        },
        EventKind::RuntimeClose { runtime, api } => EventKind::RuntimeClose {
            runtime: r(runtime),
            api,
        },
        EventKind::Create {
            resource,
            api,
            binds_now,
            made_as,
        } => EventKind::Create {
            resource: resource.map(res),
            api,
            binds_now,
            made_as,
        },
        EventKind::Use { resource } => EventKind::Use {
            resource: res(resource),
        },
        EventKind::Close { resource } => EventKind::Close {
            resource: res(resource),
        },
        EventKind::Escape { var } => EventKind::Escape { var: v(var) },
        EventKind::ScopeEnd { vars } => EventKind::ScopeEnd {
            vars: vars.into_iter().map(v).collect(),
        },
        EventKind::ExpectsFailure {
            what,
            how: crate::model::Asserted::Task(id),
        } => EventKind::ExpectsFailure {
            what,
            how: crate::model::Asserted::Task(v(id)),
        },
        other => other,
    }
}

/// A linker over the lowered files of one program, its modules mounted and its items named.
fn linker<'p>(plan: &'p ProgramPlan, irs: &'p [Option<FileIr>], kb: &'p KbView<'p>) -> Linker<'p> {
    let n = plan.files.len();
    let mut fn_base = Vec::with_capacity(n);
    let mut var_base = Vec::with_capacity(n);
    let (mut fb, mut vb) = (0u32, 0u32);
    for ir in irs {
        fn_base.push(fb);
        var_base.push(vb);
        if let Some(ir) = ir {
            fb += ir.fns.len() as u32;
            vb += ir.vars.len() as u32;
        }
    }
    let mut l = Linker {
        plan,
        irs,
        kb,
        targets: plan.targets.clone(),
        mounts: vec![Vec::new(); n],
        by_path_crate: Vec::new(),
        file_test: vec![false; n],
        file_when: vec![None; n],
        conds: Conds::default(),
        table: HashMap::default(),
        methods: HashMap::default(),
        by_name: HashMap::default(),
        trait_methods: HashMap::default(),
        fn_base,
        var_base,
        type_decls: HashMap::default(),
        alias_types: HashMap::default(),
        rets: RefCell::new(HashMap::default()),
        literals: RefCell::new(None),
    };
    l.mount_all();
    l.build_table();
    l
}

/// The library types of the values that files left for linking to type
/// ([`FileIr::deferred`]), per file: those of a runtime, a handle or a runtime-bound resource
/// for a local, and those with a knowledge-base method of that name for a receiver. A span
/// start noted twice (code a macro expanded) gets no hint.
pub fn type_hints<'p>(
    plan: &'p ProgramPlan,
    irs: &'p [Option<FileIr>],
    kb: &'p KbView<'p>,
) -> Hints<'p> {
    if irs.iter().flatten().all(|ir| ir.deferred.is_empty()) {
        return Hints {
            files: vec![None; irs.len()],
            linker: None,
        };
    }
    let l = linker(plan, irs, kb);
    let mut out = Vec::with_capacity(irs.len());
    for f in 0..irs.len() as u32 {
        let Some(ir) = l.ir(f) else {
            out.push(None);
            continue;
        };
        let mut hints = crate::frontend::rust::ir::TypeHints::default();
        let mut seen: HashSet<u32> = HashSet::default();
        let mut twice: HashSet<u32> = HashSet::default();
        for (at, ty, method) in &ir.deferred {
            if !seen.insert(*at) {
                twice.insert(*at);
                continue;
            }
            let RTy::Ext(path) = l.eval(f, ty, 0).peel().clone() else {
                continue;
            };
            let changes = match method {
                Some(m) => !kb.apis(&format!("{path}::{m}")).is_empty(),
                None => kb.type_kind(&path).is_some(),
            };
            if changes {
                hints.insert(*at, path);
            }
        }
        for at in twice {
            hints.remove(&at);
        }
        out.push((!hints.is_empty()).then_some(hints));
    }
    Hints {
        files: out,
        linker: Some(l),
    }
}

/// The type hints of a program's files ([`type_hints`]), with the linker that found them:
/// when no file is lowered again, it links the program without being built a second time.
pub struct Hints<'p> {
    /// The hints of each file (`None`: nothing to lower again).
    pub files: Vec<Option<crate::frontend::rust::ir::TypeHints>>,
    linker: Option<Linker<'p>>,
}

impl Hints<'_> {
    /// Links the files the hints were found in, as [`link`] does (none of them was lowered
    /// again since).
    pub fn link(self, plan: &ProgramPlan, irs: &[Option<FileIr>], kb: &KbView<'_>) -> Program {
        match self.linker {
            Some(l) => {
                // Return types and struct literals are computed on demand: what finding the
                // hints computed is dropped, so that linking computes them as a new linker does.
                l.rets.borrow_mut().clear();
                *l.literals.borrow_mut() = None;
                link_with(l)
            }
            None => link(plan, irs, kb),
        }
    }
}

/// Links the lowered files of one program (`None` for files that failed) into a [`Program`].
pub fn link(plan: &ProgramPlan, irs: &[Option<FileIr>], kb: &KbView<'_>) -> Program {
    link_with(linker(plan, irs, kb))
}

/// Links the program of the linker `l` (see [`link`]).
fn link_with(mut l: Linker<'_>) -> Program {
    let plan = l.plan;
    let n = plan.files.len();
    let bound = l.bound_types();

    let mut program = Program {
        conds: std::mem::take(&mut l.conds),
        ..Program::default()
    };
    // Closures handed to helpers that call their parameter: (caller, its run event, helper),
    // and how many model events each such helper has before that call.
    let mut param_pending: Vec<(FnId, usize, u32)> = Vec::new();
    let mut param_after: HashMap<u32, (u32, usize)> = HashMap::default();
    for f in 0..n {
        let group = l.primary(f as u32).map(|(t, _)| *t).unwrap_or(u32::MAX);
        program.files.push(FileInfo {
            source: plan.files[f],
            language: Language::Rust,
            group,
        });
    }

    // Globals.
    let mut globals: HashMap<(u32, u32), GlobalId> = HashMap::default();
    for f in 0..n as u32 {
        let Some(ir) = l.ir(f) else { continue };
        for (i, s) in ir.statics.iter().enumerate() {
            let api = s
                .type_apis
                .first()
                .cloned()
                .or_else(|| {
                    s.type_pkg.iter().find_map(|sp| {
                        l.resolve_sym(f, sp, 0).into_iter().find_map(|it| match it {
                            LItem::Type(t, k) => bound.get(&(t, k)).cloned(),
                            _ => None,
                        })
                    })
                })
                .or_else(|| s.init.and_then(|init| l.init_create_api(f, init)));
            let Some(api) = api else { continue };
            let id = GlobalId(program.globals.len() as u32);
            program.globals.push(Global {
                name: s.name.clone(),
                span: s.span,
                storage: s.storage,
                api,
                init: s.init.map(|x| FnId(x + l.fn_base[f as usize])),
            });
            globals.insert((f, i as u32), id);
        }
    }

    // Variables.
    for f in 0..n {
        let Some(ir) = l.ir(f as u32) else { continue };
        for var in &ir.vars {
            program.vars.push(crate::model::Var {
                name: var.name.clone(),
                owner: FnId(var.owner + l.fn_base[f]),
                span: var.span,
                kind: var.kind,
                reads: var.reads,
                consumed: var.consumed,
                fresh: var.fresh,
            });
        }
    }

    // Functions and events.
    let mut as_value: HashSet<u32> = HashSet::default();
    let mut flow = crate::frontend::flow::FlowLinker::default();
    // Where values of package types die, with the types whose fields die with them.
    let mut releases: Vec<Release> = Vec::new();
    for f in 0..n as u32 {
        let Some(ir) = l.ir(f) else { continue };
        let mut event_index: Vec<Vec<Option<u32>>> = Vec::with_capacity(ir.fns.len());
        let (fb, vb) = (l.fn_base[f as usize], l.var_base[f as usize]);
        let primary_target = l.primary(f).map(|(t, _)| *t);
        let target = primary_target.and_then(|t| l.targets.get(t as usize));
        let is_root = target.is_some_and(|t| t.root == f);
        let in_lib = target.is_some_and(|t| t.kind == TargetKind::Lib);
        let test_target = target.is_some_and(|t| t.kind == TargetKind::Test);
        // Creates whose resource is a static.
        let mut to_global: HashMap<(u32, u32), GlobalId> = HashMap::default();
        for (i, s) in ir.statics.iter().enumerate() {
            if let Some(&g) = globals.get(&(f, i as u32)) {
                for &(fi, ev) in &s.init_creates {
                    to_global.insert((fi, ev), g);
                }
            }
        }
        for (t, fi, ev) in &ir.bound_creates {
            for it in l.resolve_target(f, t) {
                if let LItem::Static(sf, si) = it
                    && let Some(&g) = globals.get(&(sf, si))
                {
                    to_global.insert((*fi, *ev), g);
                }
            }
        }
        // Closures handed to helpers that call their parameter run inline, where the call is.
        let inline_runs: HashSet<(u32, u32)> = ir
            .handed
            .iter()
            .filter(|(_, _, t)| l.calls_its_param(f, t))
            .map(|(fi, ev, _)| (*fi, *ev))
            .collect();
        // Closures handed to helpers that pass them to an API catching their failure run under
        // that API.
        let caught_runs: HashMap<(u32, u32), String> = ir
            .handed
            .iter()
            .filter_map(|(fi, ev, t)| {
                l.param_caught_by(f, t)
                    .map(|api| ((*fi, *ev), api.to_string()))
            })
            .collect();
        let handed_to: Vec<(u32, u32, u32)> = ir
            .handed
            .iter()
            .filter_map(|(fi, ev, t)| l.param_helper(f, t).map(|(h, _)| (*fi, *ev, h)))
            .collect();
        // Knowledge-base methods matched by name stand only on receivers of no package type.
        let mut dropped: HashSet<(u32, u32)> = HashSet::default();
        for g in &ir.guarded {
            let pkg_type = match l.eval(f, &g.ty, 0).peel() {
                RTy::Pkg(_, key) => {
                    let name = key.rsplit("::").next().unwrap_or(key);
                    !g.owners.iter().any(|o| o == name)
                }
                _ => false,
            };
            if pkg_type {
                dropped.extend((g.events.0..g.events.1).map(|ev| (g.func, ev)));
            } else if let Some(ev) = g.pkg_call {
                dropped.insert((g.func, ev));
            }
        }
        // Calls through a trait object or a type parameter, and lazy statics' initialisers run
        // by a read, as (local fn, model event, how surely).
        let mut may_calls: Vec<(u32, u32, Reach)> = Vec::new();
        for (i, func) in ir.fns.iter().enumerate() {
            let mut events = Vec::with_capacity(func.events.len());
            let mut event_regions: Vec<u32> = Vec::with_capacity(func.events.len());
            let mut index = Vec::with_capacity(func.events.len());
            for (ei, ev) in func.events.iter().enumerate() {
                if dropped.contains(&(i as u32, ei as u32)) {
                    index.push(None);
                    continue;
                }
                // A read of a lazy static runs its initialiser, the first time.
                if let FKind::Ref {
                    target,
                    as_value: true,
                    ..
                } = &ev.kind
                {
                    let inits = l.lazy_inits(f, target);
                    if !inits.is_empty() {
                        may_calls.push((i as u32, events.len() as u32, Reach::Once));
                        event_regions.push(ev.region);
                        events.push(Event {
                            span: ev.span,
                            loop_depth: ev.loop_depth,
                            kind: EventKind::Call {
                                callees: inits.into(),
                                result: None,
                            },
                            when: program.conds.import(&ir.conds, ev.when),
                        });
                    }
                }
                let kind = match &ev.kind {
                    // A static cell's initialiser runs once, for whichever caller comes first:
                    // what it makes is one object, not one per caller.
                    FKind::Model(EventKind::Run {
                        body,
                        how: RunKind::Inline,
                        ..
                    }) if ir.once_runs.contains(&(i as u32, ei as u32)) => {
                        may_calls.push((i as u32, events.len() as u32, Reach::Once));
                        Some(EventKind::Call {
                            callees: smallvec::smallvec![FnId(body.0 + fb)],
                            result: None,
                        })
                    }
                    FKind::Model(k) => {
                        let mut k = offset_kind(k, fb, vb);
                        if let EventKind::Create { resource, .. } = &mut k
                            && resource.is_none()
                            && let Some(&g) = to_global.get(&(i as u32, ei as u32))
                        {
                            *resource = Some(ResourceRef::Global(g));
                        }
                        if let EventKind::Run { api, .. } = &mut k {
                            if let Some(by) = caught_runs.get(&(i as u32, ei as u32)) {
                                *api = by.as_str().into();
                            } else if inline_runs.contains(&(i as u32, ei as u32)) {
                                *api = "Inline".into();
                            }
                        }
                        Some(k)
                    }
                    FKind::Drop { ty, moves, bound } => {
                        let types = l.dropped_types(f, ty, moves);
                        if !types.is_empty() {
                            releases.push((FnId(fb + i as u32), ev.span, *bound, types));
                        }
                        let callees = l.drop_callees(f, ty, moves);
                        (!callees.is_empty()).then_some(EventKind::Call {
                            callees: callees.into(),
                            result: None,
                        })
                    }
                    FKind::Read { var } => {
                        let id = var + vb;
                        (program.vars[id as usize].kind == VarKind::Resource).then_some(
                            EventKind::Use {
                                resource: ResourceRef::Local(VarId(id)),
                            },
                        )
                    }
                    FKind::Ref {
                        target,
                        as_value: value,
                        result,
                    } => {
                        let items = l.resolve_target(f, target);
                        let mut callees = crate::model::Callees::new();
                        let mut global = None;
                        for it in items {
                            match it {
                                LItem::Fn(id) if !callees.contains(&FnId(id)) => {
                                    callees.push(FnId(id));
                                }
                                LItem::Static(sf, si) => {
                                    global = global.or(globals.get(&(sf, si)).copied())
                                }
                                _ => {}
                            }
                        }
                        if !callees.is_empty() {
                            if *value {
                                as_value.extend(callees.iter().map(|c| c.0));
                            }
                            let result = result.map(|r| VarId(r + vb));
                            if let Some(r) = result
                                && program.vars[r.0 as usize].kind == VarKind::Other
                            {
                                let kinds: Vec<Option<VarKind>> = callees
                                    .iter()
                                    .map(|c| {
                                        let (cf, local) = locate(&l.fn_base, c.0);
                                        l.ir(cf)
                                            .and_then(|ir| ir.fns.get(local as usize))
                                            .and_then(|func| l.type_kind(cf, &func.ret, &bound))
                                    })
                                    .collect();
                                if let Some(Some(k)) = kinds.first()
                                    && kinds.iter().all(|x| x == &Some(*k))
                                {
                                    program.vars[r.0 as usize].kind = *k;
                                }
                            }
                            if !*value && callees.len() > 1 && l.dispatches(f, target) {
                                may_calls.push((i as u32, events.len() as u32, Reach::May));
                            }
                            Some(EventKind::Call { callees, result })
                        } else if *value {
                            global.map(|g| EventKind::Use {
                                resource: ResourceRef::Global(g),
                            })
                        } else {
                            None
                        }
                    }
                };
                if let Some(kind) = kind {
                    index.push(Some(events.len() as u32));
                    event_regions.push(ev.region);
                    events.push(Event {
                        span: ev.span,
                        loop_depth: ev.loop_depth,
                        kind,
                        when: program.conds.import(&ir.conds, ev.when),
                    });
                } else {
                    index.push(None);
                }
            }
            if let Some(at) = func.param_call_at {
                // A parameter future runs at the start of the nested body an API runs.
                let site = match func.param_site {
                    Some(body) => (fb + body, 0),
                    None => (
                        fb + i as u32,
                        index.iter().take(at as usize).flatten().count(),
                    ),
                };
                param_after.insert(fb + i as u32, site);
            }
            event_index.push(index);
            // Which runtime-needing events run before which others: kept for the bodies with
            // two of them or more.
            let needing = events
                .iter()
                .filter(|e| {
                    matches!(
                        e.kind,
                        EventKind::NeedsRuntime { .. }
                            | EventKind::Create {
                                binds_now: true,
                                ..
                            }
                            | EventKind::Run {
                                how: RunKind::Spawn,
                                runtime: RuntimeRef::Current,
                                ..
                            }
                    )
                })
                .count();
            if needing >= 2 {
                let regions = if event_regions.iter().all(|&r| r == 0) {
                    crate::model::Regions::default()
                } else {
                    crate::model::Regions {
                        of_event: event_regions,
                        parent: func.regions.clone(),
                    }
                };
                program.regions.insert(FnId(fb + i as u32), regions);
            }
            let mut entry = func.entry.clone();
            let non_lib_root = is_root && !in_lib;
            if entry.is_none() && func.is_root_main && non_lib_root {
                entry = Some(Entry::Main);
            }
            let own = program.conds.import(&ir.conds, func.when);
            let outer = l.file_when[f as usize].unwrap_or(CondId::TRUE);
            let when = program.conds.and(outer, own);
            program.functions.push(Function {
                name: func.name.clone(),
                language: Language::Rust,
                span: func.span,
                kind: func.kind,
                is_async: func.is_async,
                parent: func.parent.map(|p| FnId(p + fb)),
                entry,
                // Methods of a trait of the package, outside a library, are called by the
                // package alone, and so is `Drop::drop`, which runs where the package's own
                // values die; other trait methods by whatever holds the trait.
                callers_unknown: (func.is_pub
                    && in_lib
                    && func.kind == crate::model::FnKind::Named)
                    || (func.is_trait_method
                        && (!(func.pkg_trait || func.trait_name.as_deref() == Some("Drop"))
                            || in_lib)),
                lib_trait: func.is_trait_method
                    && !func.pkg_trait
                    && func.trait_name.as_deref() != Some("Drop"),
                task_call: func.task_call,
                is_test: func.is_test || l.file_test[f as usize] || test_target,
                diverges: func.diverges,
                events,
                when,
                params: Vec::new(),
            });
        }
        for (fi, ev, reach) in may_calls {
            program.reach.insert((FnId(fb + fi), ev), reach);
        }
        for (fi, ev, helper) in handed_to {
            if let Some(&Some(at)) = event_index
                .get(fi as usize)
                .and_then(|index| index.get(ev as usize))
            {
                param_pending.push((FnId(fb + fi), at as usize, helper));
            }
        }
        // Arguments handed to a method of a receiver that linking tells apart: used by a
        // library method, passed to the parameters of a package method.
        let not_library: HashSet<u32> = ir
            .lib_arg_uses
            .iter()
            .filter(|&&(_, fi, ev)| {
                let resolved = event_index
                    .get(fi as usize)
                    .and_then(|index| index.get(ev as usize))
                    .is_some_and(|at| at.is_some());
                let pkg_recv = match ir
                    .fns
                    .get(fi as usize)
                    .and_then(|func| func.events.get(ev as usize))
                {
                    Some(super::ir::FEvent {
                        kind:
                            FKind::Ref {
                                target: Target::Method { ty, .. },
                                ..
                            },
                        ..
                    }) => matches!(l.eval(f, ty, 0).peel(), RTy::Pkg(..)),
                    _ => true,
                };
                resolved || pkg_recv
            })
            .map(|&(fact, _, _)| fact)
            .collect();
        let facts: std::borrow::Cow<[crate::model::Fact]> = if not_library.is_empty() {
            std::borrow::Cow::Borrowed(&ir.flow)
        } else {
            ir.flow
                .iter()
                .enumerate()
                .filter(|(i, _)| !not_library.contains(&(*i as u32)))
                .map(|(_, fact)| fact.clone())
                .collect()
        };
        flow.add_file(
            &mut program.flow,
            &ir.cells,
            &ir.temps,
            &facts,
            fb,
            vb,
            &event_index,
        );
    }
    release_fields(&mut program.flow, releases);
    program.param_runs = param_pending
        .into_iter()
        .filter_map(|(caller, ev, helper)| {
            // A closure or async block, or the one async function whose call builds the future.
            let body = match &program.functions[caller.0 as usize].events[ev].kind {
                EventKind::Run { body, .. } => *body,
                EventKind::Call { callees, .. } => match callees[..] {
                    [c] if program.functions[c.0 as usize].is_async => c,
                    _ => return None,
                },
                _ => return None,
            };
            param_after
                .get(&helper)
                .map(|&(site, after)| crate::model::ParamRun {
                    run: (caller, ev),
                    body,
                    helper: FnId(helper),
                    site: (FnId(site), after),
                })
        })
        .collect();
    for id in as_value {
        if let Some(func) = program.functions.get_mut(id as usize) {
            func.callers_unknown = true;
        }
    }
    program
}

/// The file and local index of a program-wide function id.
fn locate(fn_base: &[u32], id: u32) -> (u32, u32) {
    let f = match fn_base.binary_search(&id) {
        Ok(mut i) => {
            // Files without functions share a base; take the last file starting at `id`.
            while i + 1 < fn_base.len() && fn_base[i + 1] == id {
                i += 1;
            }
            i
        }
        Err(i) => i - 1,
    };
    (f as u32, id - fn_base[f])
}

/// A value dying in a function at a span (and where its owning local was bound, if one was):
/// the package types that die with it, each with the fields that need not (see
/// `dropped_types`).
type Release = (
    FnId,
    crate::model::Span,
    Option<crate::model::Span>,
    Vec<(String, Vec<String>)>,
);

/// The fields of a dying value are released with it: one fact per field cell of each type,
/// except the fields that only share what they point to or may have been emptied.
fn release_fields(flow: &mut crate::model::FlowFacts, releases: Vec<Release>) {
    use crate::model::{CellId, CellKind, Fact, FactKind};
    let mut by_owner: HashMap<&str, Vec<CellId>> = HashMap::default();
    for (i, c) in flow.cells.iter().enumerate() {
        if c.kind == CellKind::Field {
            by_owner
                .entry(c.owner.as_str())
                .or_default()
                .push(CellId(i as u32));
        }
    }
    let mut facts = Vec::new();
    for (func, span, bound, types) in releases {
        for (t, shared) in types {
            for &cell in by_owner.get(t.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                if shared.contains(&flow.cells[cell.0 as usize].name) {
                    continue;
                }
                facts.push(Fact {
                    func,
                    span,
                    kind: FactKind::Release { cell, bound },
                });
            }
        }
    }
    flow.facts.extend(facts);
}
