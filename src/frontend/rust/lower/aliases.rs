//! Type aliases (`type Shared = Arc<Mutex<Client>>;`): a type named through an alias reads as
//! the type it stands for. In the file that declares it the alias is expanded before the type is
//! read, its generic parameters replaced by the arguments the use gives
//! (`type Shared<T> = Arc<Mutex<T>>;`, `Shared<Client>`); the file records the type of each
//! alias (`FileIr::aliases`), which the link reads for the files that import it.

use syn::Type;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use super::Lowerer;
use crate::frontend::rust::ir::SymPath;
use crate::frontend::rust::resolve::Res;
use crate::frontend::rust::types::path_segs;

/// Most alias expansions in one type (aliases of aliases, repeated uses).
const MAX_EXPANSIONS: u32 = 16;

/// A type alias declared in the file.
pub(super) struct AliasDecl {
    /// Module scope of the declaration.
    pub scope: u32,
    /// The alias's name.
    pub name: String,
    /// Its generic type parameters.
    pub params: Vec<String>,
    /// The aliased type.
    pub ty: Type,
    /// The path its name resolves to, once the file's scopes are known.
    pub path: Option<SymPath>,
}

impl Lowerer<'_, '_> {
    /// Notes a type alias met while collecting the items of module scope `scope`.
    pub(super) fn note_alias(&mut self, t: &syn::ItemType, scope: u32) {
        self.aliases.push(AliasDecl {
            scope,
            name: t.ident.to_string(),
            params: t
                .generics
                .type_params()
                .map(|p| p.ident.to_string())
                .collect(),
            ty: (*t.ty).clone(),
            path: None,
        });
    }

    /// Resolves the aliases' names once the file's scopes are known, and records the type of
    /// each for the link.
    pub(super) fn finish_aliases(&mut self) {
        for i in 0..self.aliases.len() {
            let (scope, name) = (self.aliases[i].scope, self.aliases[i].name.clone());
            let saved = std::mem::replace(&mut self.scope, scope);
            if let Res::Pkg(sp) = self.resolve(std::slice::from_ref(&name)) {
                self.aliases[i].path = Some(sp);
            }
            let ty = self.aliases[i].ty.clone();
            let tr = self.resolve_type(&ty);
            self.scope = saved;
            self.ir.aliases.push((scope, name, tr));
        }
    }

    /// `ty` with the file's aliases expanded, when it names one.
    pub(super) fn expand_aliases(&self, ty: &Type) -> Option<Type> {
        let mut names = Names {
            aliases: &self.aliases,
            found: false,
        };
        names.visit_type(ty);
        if !names.found {
            return None;
        }
        let mut out = ty.clone();
        let mut x = Expand {
            lowerer: self,
            count: 0,
        };
        x.visit_type_mut(&mut out);
        (x.count > 0).then_some(out)
    }
}

/// Whether a type mentions a path ending in the name of one of the aliases.
struct Names<'x> {
    aliases: &'x [AliasDecl],
    found: bool,
}

impl<'ast> Visit<'ast> for Names<'_> {
    fn visit_path(&mut self, p: &'ast syn::Path) {
        if let Some(last) = p.segments.last()
            && self.aliases.iter().any(|a| last.ident == a.name)
        {
            self.found = true;
        }
        if !self.found {
            syn::visit::visit_path(self, p);
        }
    }
}

struct Expand<'l, 'a, 'c> {
    lowerer: &'l Lowerer<'a, 'c>,
    count: u32,
}

impl VisitMut for Expand<'_, '_, '_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if self.count < MAX_EXPANSIONS
            && let Type::Path(p) = &*ty
            && p.qself.is_none()
            && let Res::Pkg(sp) = self.lowerer.resolve(&path_segs(&p.path))
            && let Some(a) = self
                .lowerer
                .aliases
                .iter()
                .find(|a| a.path.as_ref() == Some(&sp))
        {
            let args: Vec<Type> = match p.path.segments.last().map(|s| &s.arguments) {
                Some(syn::PathArguments::AngleBracketed(g)) => g
                    .args
                    .iter()
                    .filter_map(|g| match g {
                        syn::GenericArgument::Type(t) => Some(t.clone()),
                        _ => None,
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let mut body = a.ty.clone();
            if !a.params.is_empty() {
                Substitute {
                    params: &a.params,
                    args: &args,
                }
                .visit_type_mut(&mut body);
            }
            *ty = body;
            self.count += 1;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

/// Replaces an alias's generic parameters by the arguments of its use (a parameter with no
/// argument stays, and reads as an unknown type).
struct Substitute<'p> {
    params: &'p [String],
    args: &'p [Type],
}

impl VisitMut for Substitute<'_> {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::Path(p) = &*ty
            && p.qself.is_none()
            && let Some(id) = p.path.get_ident()
            && let Some(i) = self.params.iter().position(|n| id == n)
            && let Some(arg) = self.args.get(i)
        {
            *ty = arg.clone();
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}
