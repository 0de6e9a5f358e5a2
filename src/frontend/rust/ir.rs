//! The file-level intermediate form: one lowered file with symbolic references to other files.
//!
//! Lowering runs per file and in parallel, so a file cannot know the ids of functions or statics
//! declared elsewhere. It records such references as [`SymPath`]s and method names; `link`
//! resolves them once every file of a program is lowered. Function and variable ids inside a
//! file are local (0-based) and shifted by `link`.

use std::sync::Arc;

use crate::model::{CondId, Conds, Entry, EventKind, Span, StorageKind};

/// Where a package path starts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Anchor {
    /// `crate::`: the root of the crate the file is mounted in.
    Crate,
    /// A crate of the program named by its crate name (`my_pkg::`).
    Named(String),
    /// A module scope of this file (index into [`FileIr::modules`]), `up` levels higher
    /// (`self::` is 0, `super::` is 1).
    Module {
        /// Module scope index in the file.
        scope: u32,
        /// Number of `super` steps.
        up: u32,
    },
    /// A name not declared in module scope `scope`: tried against its glob imports.
    Glob {
        /// Module scope index in the file.
        scope: u32,
    },
}

/// A path into the package, not yet resolved.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SymPath {
    /// Start of the path.
    pub anchor: Anchor,
    /// Segments after the anchor.
    pub segs: Vec<String>,
}

/// The static type of a value, as far as lowering can tell.
#[derive(Clone, Debug, Default)]
pub enum TypeRef {
    /// Not known.
    #[default]
    Unknown,
    /// A type outside the package, by full path (`tokio::runtime::Runtime`).
    Ext(Arc<str>),
    /// A type of the package.
    Pkg(Arc<SymPath>),
    /// `Option<T>` or `Result<T, _>`: `?`, `unwrap`, `Some(x)` and `Ok(x)` reach the `T`.
    Wrapped(Arc<TypeRef>),
    /// `&T`, `Arc<T>`, `Rc<T>`: the methods of `T` apply, but dropping the value drops no `T`.
    Shared(Arc<TypeRef>),
    /// A lock holding a `T` (`Mutex<T>`, `RwLock<T>`): its guards (`.lock()`, `.read()`,
    /// `.write()`, unwrapped or awaited) give the `T`'s methods.
    Lock(Arc<TypeRef>),
    /// A type only the linked program knows (a call's declared return type, a field of a type
    /// declared in another file).
    Deferred(Arc<TyExpr>),
}

/// A type to compute once the program is linked.
#[derive(Clone, Debug)]
pub enum TyExpr {
    /// The declared return type of what `target` calls; `fallback` when it calls no function
    /// of the package (a derived or generated constructor).
    Ret {
        /// The callee.
        target: Target,
        /// Type to take when the callee is no function of the package.
        fallback: TypeRef,
    },
    /// The type of a field (`name`, or `Variant::name` of an enum) of a value of the given type.
    Field(TypeRef, String),
    /// The `T` of a wrapped value (`?`, `unwrap`, `Some(x)`).
    Unwrap(TypeRef),
}

impl TypeRef {
    /// The type whose methods apply: references and shared pointers seen through.
    pub fn peel(&self) -> &TypeRef {
        let mut t = self;
        for _ in 0..16 {
            match t {
                TypeRef::Shared(inner) => t = inner,
                _ => break,
            }
        }
        t
    }

    /// The external path, if the type is external (seen through references).
    pub fn ext(&self) -> Option<&str> {
        match self.peel() {
            TypeRef::Ext(s) => Some(s),
            _ => None,
        }
    }

    /// Whether the type is, or may be once linked, a type of the package.
    pub fn maybe_pkg(&self) -> bool {
        matches!(self.peel(), TypeRef::Pkg(_) | TypeRef::Deferred(_))
    }

    /// The `T` of a wrapped value (`?`, `.unwrap()`); other types are kept.
    pub fn unwrapped(&self) -> TypeRef {
        match self {
            TypeRef::Wrapped(inner) => (**inner).clone(),
            TypeRef::Deferred(_) => TypeRef::Deferred(Arc::new(TyExpr::Unwrap(self.clone()))),
            other => other.clone(),
        }
    }
}

/// The target of a symbolic reference.
#[derive(Clone, Debug)]
pub enum Target {
    /// A function of this file (local index).
    Fn(u32),
    /// A static of this file (index into [`FileIr::statics`]).
    Static(u32),
    /// A package path.
    Path(SymPath),
    /// A method called on a receiver of the given package type, or of unknown type.
    Method {
        /// Receiver type (package, deferred, or unknown).
        ty: TypeRef,
        /// Method name.
        name: String,
    },
    /// A method that the language calls implicitly (`Default::default` of a derive,
    /// `IntoFuture::into_future` of an `.await`): only an impl of `trait_` for the type counts.
    Implicit {
        /// Receiver type.
        ty: TypeRef,
        /// Trait name (last segment).
        trait_: String,
        /// Method name.
        name: String,
    },
    /// A trait method that library code calls on whatever value of the trait the program
    /// installs (`Log::log` of the installed logger, through `log::info!`): every impl of the
    /// package, when some file installs one ([`FileIr::installs`]).
    Installed {
        /// Trait name (last segment).
        trait_: String,
        /// Method name.
        name: String,
    },
}

/// A file-level event kind: a model event with local ids, or a reference to resolve.
#[derive(Clone, Debug)]
pub enum FKind {
    /// A model event whose `FnId`s and `VarId`s are local to the file.
    Model(EventKind),
    /// A call of, or a reference to, something of the package.
    Ref {
        /// What is referenced.
        target: Target,
        /// Whether the reference is a value (function pointer, static) rather than a callee.
        as_value: bool,
        /// Variable the call result is bound to (local id).
        result: Option<u32>,
    },
    /// A read of a tracked local variable (becomes a `Use` when the variable is a resource).
    Read {
        /// Local variable id.
        var: u32,
    },
    /// A value of type `ty` dies here (scope end, overwrite, `drop(x)`): a call of the type's
    /// `Drop::drop` and of its fields' once linked. `moves` are the method calls made on the
    /// value, as (local fn, event index): one that takes `self` by value moved it away before.
    Drop {
        /// Type of the value.
        ty: TypeRef,
        /// Method calls on the value.
        moves: Vec<(u32, u32)>,
        /// Where the local owning the value was bound, when it dies at its scope end.
        bound: Option<Span>,
    },
}

/// One file-level event.
#[derive(Clone, Debug)]
pub struct FEvent {
    /// Span (file id already program-local).
    pub span: Span,
    /// Loop nesting.
    pub loop_depth: u16,
    /// What happens.
    pub kind: FKind,
    /// Build condition of the event (in [`FileIr::conds`]).
    pub when: CondId,
    /// The branch of its body the event sits in ([`FnIr::regions`]; 0: the body itself).
    pub region: u32,
}

/// A function body of the file.
#[derive(Clone, Debug)]
pub struct FnIr {
    /// Display name.
    pub name: String,
    /// Name span or nested-body head.
    pub span: Span,
    /// Kind of body.
    pub kind: crate::model::FnKind,
    /// Async body.
    pub is_async: bool,
    /// Enclosing body (local id).
    pub parent: Option<u32>,
    /// Entry from attributes.
    pub entry: Option<Entry>,
    /// Test code.
    pub is_test: bool,
    /// Declared `pub` (plain `pub`, not restricted).
    pub is_pub: bool,
    /// A method of a trait impl or a trait's default method.
    pub is_trait_method: bool,
    /// Whether that trait is declared in the package: only the package calls its methods.
    pub pkg_trait: bool,
    /// Whether library code calls the method from the tasks of a runtime (the knowledge
    /// base's `task_call`: `tower::Service::call`).
    pub task_call: bool,
    /// A `fn main` at the root module of the file.
    pub is_root_main: bool,
    /// Impl self type of a method (for the method table).
    pub impl_ty: Option<Arc<SymPath>>,
    /// Whether the method takes `self`.
    pub has_self: bool,
    /// Whether the method takes `self` by value (it consumes its receiver).
    pub self_by_value: bool,
    /// Trait of the impl the method belongs to (last path segment: `Drop`, `Default`).
    pub trait_name: Option<String>,
    /// Whether the body calls one of its parameters (a helper that runs the closure it is given).
    pub calls_param: bool,
    /// How many events the body emits before it first calls one of its parameters.
    pub param_call_at: Option<u32>,
    /// The nested body (a local function id) in which the parameter runs, when the body hands
    /// a parameter future to a runtime API (`futures::executor::block_on(fut)`): the future
    /// runs at the start of that body, on what the API runs it on.
    pub param_site: Option<u32>,
    /// The API that catches the failure of a parameter the body hands to it
    /// (`catch_unwind(f)`): what the helper is given runs under that API.
    pub param_caught_by: Option<String>,
    /// Module scope the item is declared in.
    pub scope: u32,
    /// Declared return type.
    pub ret: TypeRef,
    /// The body ends in an infinite loop with no way out.
    pub diverges: bool,
    /// Events in source order.
    pub events: Vec<FEvent>,
    /// The branches of the body (a side of an `if`, a `match` arm, a loop's body, the right
    /// side of `&&`, a macro's arguments), by the branch each one sits in; the body itself,
    /// region 0, is not listed.
    pub regions: Vec<u32>,
    /// Build condition of the body (in [`FileIr::conds`]), within its file.
    pub when: CondId,
}

/// A tracked variable with a local owner.
#[derive(Clone, Debug)]
pub struct VarIr {
    /// Source name.
    pub name: String,
    /// Owning body (local id).
    pub owner: u32,
    /// Binding span.
    pub span: Span,
    /// What it holds.
    pub kind: crate::model::VarKind,
    /// Reads after the binding.
    pub reads: u32,
    /// Whether some read may wait for or keep the value (see [`crate::model::Var::consumed`]).
    pub consumed: bool,
    /// Whether the value is made by the binding's own call (see [`crate::model::Var::fresh`]).
    pub fresh: bool,
}

/// A static (or `lazy_static!`/`thread_local!` entry) of the file.
#[derive(Clone, Debug)]
pub struct StaticIr {
    /// Name.
    pub name: String,
    /// Span of the name.
    pub span: Span,
    /// How it is stored.
    pub storage: StorageKind,
    /// Runtime-bound knowledge-base paths mentioned by its type.
    pub type_apis: Vec<String>,
    /// Package types mentioned by its type.
    pub type_pkg: Vec<SymPath>,
    /// Initialiser body (local id).
    pub init: Option<u32>,
    /// Whether the initialiser runs at the first dereference of the static, wherever that is
    /// (`lazy_static!`, a `Lazy`/`LazyLock` made with a closure), rather than at compile time.
    pub lazy: bool,
    /// `Create` events in the initialiser's result: (local fn, event index).
    pub init_creates: Vec<(u32, u32)>,
    /// Module scope, or `None` when declared inside a function body.
    pub scope: Option<u32>,
    /// Its type when it is a library type (seen through `OnceLock`, `Lazy` and the like), so
    /// that library methods called on it are known.
    pub ty: TypeRef,
}

/// A struct or enum of the file, with the types its fields mention.
#[derive(Clone, Debug)]
pub struct TypeIr {
    /// Name.
    pub name: String,
    /// Module scope.
    pub scope: u32,
    /// A runtime-bound knowledge-base path mentioned by a field type.
    pub bound_api: Option<String>,
    /// Package types mentioned by field types.
    pub field_pkg: Vec<SymPath>,
    /// Fields and their types (enum variant fields as `Variant::field`, tuple fields by index).
    pub fields: Vec<(String, TypeRef)>,
    /// Fields whose declared type is a type parameter of the type: their type is that of the
    /// values the package's struct literals put there ([`FileIr::literals`]).
    pub generic: Vec<String>,
}

/// The events a knowledge-base method matched by name adds (`e.block_on(f)`), on a receiver
/// whose type is known only once linked. A receiver of a package type (a struct of the crate
/// with a method of that name) calls the package method instead: the events are dropped and
/// the package call stands, unless the type has the name of a type the knowledge base matched
/// (the library's own package); otherwise the package call is dropped.
#[derive(Clone, Debug)]
pub struct Guard {
    /// Body (local id).
    pub func: u32,
    /// First and one-past-last index of the knowledge-base events.
    pub events: (u32, u32),
    /// Receiver type.
    pub ty: TypeRef,
    /// Index of the call of the package method of that name.
    pub pkg_call: Option<u32>,
    /// Names of the types whose method the knowledge base matched (`Runtime`): a package type
    /// of one of these names is that type, in the library's own package.
    pub owners: Vec<String>,
}

/// A `mod name;` declaration (a module in another file).
#[derive(Clone, Debug)]
pub struct ModDecl {
    /// Scope it is declared in.
    pub scope: u32,
    /// Module name.
    pub name: String,
    /// `#[path = ".."]` value.
    pub path_attr: Option<String>,
    /// Under `#[cfg(test)]`.
    pub cfg_test: bool,
    /// Build condition of the declaration (in [`FileIr::conds`]), its scope's included.
    pub when: CondId,
}

/// What a name of a module scope denotes.
#[derive(Clone, Debug)]
pub enum ItemIr {
    /// A function (local id).
    Fn(u32),
    /// A static (index).
    Static(u32),
    /// A struct, enum, union, trait or type alias (index into [`FileIr::types`] when a
    /// struct/enum, else `u32::MAX`).
    Type(u32),
    /// An inline module (scope index).
    Module(u32),
    /// A `mod name;` declaration (index into [`FileIr::mod_decls`]).
    ModFile(u32),
    /// A `use` import of a package path.
    Alias(SymPath),
}

/// One module scope of a file: the file's root module or an inline `mod x { .. }`.
#[derive(Clone, Debug, Default)]
pub struct ModuleIr {
    /// Parent scope (inline modules).
    pub parent: Option<u32>,
    /// Name of an inline module.
    pub name: String,
    /// Named items of the scope (values and types share it; see [`ItemIr`]).
    pub items: Vec<(String, ItemIr)>,
    /// Glob imports of package modules (`use super::*`).
    pub globs: Vec<SymPath>,
    /// Whether the scope is under `#[cfg(test)]`.
    pub cfg_test: bool,
    /// Build condition of the scope (in [`FileIr::conds`]).
    pub when: CondId,
}

/// A lowered file.
#[derive(Debug, Default)]
pub struct FileIr {
    /// Module scopes; 0 is the file's root.
    pub modules: Vec<ModuleIr>,
    /// `mod x;` declarations.
    pub mod_decls: Vec<ModDecl>,
    /// Function bodies (local ids are indices).
    pub fns: Vec<FnIr>,
    /// Tracked variables (local ids are indices).
    pub vars: Vec<VarIr>,
    /// Statics.
    pub statics: Vec<StaticIr>,
    /// Structs and enums.
    pub types: Vec<TypeIr>,
    /// `Create` events whose resource is stored in a static (`X.get_or_init(|| ..)`): the
    /// static, and the event as (local fn, event index).
    pub bound_creates: Vec<(Target, u32, u32)>,
    /// Inline runs of a static cell's initialiser (`X.get_or_init(|| ..)`), as (local fn,
    /// event index): the first of them to run fills the cell, once per process.
    pub once_runs: Vec<(u32, u32)>,
    /// Closures and functions handed to a package function, as (local fn, index of the `Run`
    /// event, callee): they run where the callee calls its parameter.
    pub handed: Vec<(u32, u32, Target)>,
    /// Knowledge-base events of a method call matched by name on a receiver whose type only
    /// linking can tell: they stand only if that type is no type of the package.
    pub guarded: Vec<Guard>,
    /// `Use` facts of the arguments of a method call on a receiver whose type only linking can
    /// tell (`redis::cmd(..).arg(k).query_async(&mut conn)`), as (fact index, local fn, index
    /// of the call's event): a library method uses what it is handed, a package method's
    /// parameters receive it instead, so each stands only if the call resolves to no package
    /// method and the receiver is of no package type.
    pub lib_arg_uses: Vec<(u32, u32, u32)>,
    /// Storage cells named by flow facts (fields by owning type, statics by name).
    pub cells: Vec<crate::model::Cell>,
    /// Owning function (local id) of each temporary.
    pub temps: Vec<u32>,
    /// Flow facts with file-local function, variable, temporary, cell and event ids.
    pub flow: Vec<crate::model::Fact>,
    /// Build conditions of the file's items and statements.
    pub conds: Conds,
    /// Values whose type only linking can tell and whose library type would change how the
    /// file lowers: a local bound to the result of a package call, or the receiver of a method
    /// that some library type has. Keyed by the span start of the binding's name or of the
    /// method's name (and the method's name); see [`TypeHints`].
    pub deferred: Vec<(u32, TypeRef, Option<String>)>,
    /// Struct literals' field values: (struct type, field name, value type).
    pub literals: Vec<(TypeRef, String, TypeRef)>,
    /// Traits whose values the file hands to a library that calls them later (`log::set_logger`
    /// installs a `Log`).
    pub installs: Vec<String>,
    /// Type aliases: (module scope, name, the aliased type).
    pub aliases: Vec<(u32, String, TypeRef)>,
}

/// Library types found at link time for values of [`FileIr::deferred`], by the same span
/// starts: a file lowered again with them lowers as if the types had been known at once.
pub type TypeHints = rustc_hash::FxHashMap<u32, Arc<str>>;
