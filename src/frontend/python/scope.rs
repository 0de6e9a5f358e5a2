//! Scopes, name-resolution results and the context shared by the files of one project.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::name::Name;

use super::imports::ModuleSet;
use crate::kb::{Api, Concept, Kb};
use crate::model::{Language, VarId};

/// What a scope is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    /// Module-level code (or the `__main__` block).
    Module,
    /// A function body.
    Function,
    /// A class body: names bound here are class attributes.
    ClassBody,
    /// A synthetic body (the argument of `asyncio.run`, a thread target): it sees the
    /// enclosing scope's names.
    Synthetic,
}

/// A name scope and the function events go to.
#[derive(Debug)]
pub struct Scope {
    /// Kind.
    pub kind: ScopeKind,
    /// Local function index events go to.
    pub fn_id: u32,
    /// Whether code here runs as a coroutine.
    pub is_async: bool,
    /// Names bound in the function (locals).
    pub locals: HashSet<Name>,
    /// Names declared `global`.
    pub globals_decl: HashSet<Name>,
    /// Names declared `nonlocal`.
    pub nonlocals: HashSet<Name>,
    /// Function-level imports.
    pub imports: Option<Box<super::imports::Imports>>,
    /// Nested function definitions by name.
    pub defs: HashMap<Name, u32>,
    /// Tracked variables by name (latest binding).
    pub vars: HashMap<Name, VarId>,
    /// Known types of local names (dotted paths).
    pub types: HashMap<Name, String>,
    /// Local names that alias a global (a cached factory's or fixture's value).
    pub global_alias: HashMap<Name, u32>,
    /// Local names bound to what an accessor method of the class returns: a resource instance
    /// attribute (its dotted path `pkg.Class.attr`).
    pub attr_alias: HashMap<Name, String>,
    /// Enclosing class path for methods, and the name of `self`/`cls`.
    pub class: Option<(String, String)>,
    /// For methods: a class method, whose first parameter is the class itself (its
    /// attributes are the class's, shared by the process).
    pub class_level: bool,
    /// For class bodies: the class index.
    pub class_idx: Option<u32>,
    /// Parameters that name pytest fixtures.
    pub fixture_params: HashSet<Name>,
    /// Global that this function's result is (cached factory, wide fixture).
    pub result_global: Option<u32>,
    /// Whether the function is a pytest fixture: what it yields is its value.
    pub fixture: bool,
    /// For a `functools.cached_property` getter or a method under `functools.cache` /
    /// `lru_cache`: the instance attribute its result is kept in (the getter's name; the
    /// method's name and `()`), made on the first read.
    pub instance_cached: Option<String>,
    /// Current loop depth.
    pub loop_depth: u16,
    /// Tracked variables owned by this body, for its scope end.
    pub owned: Vec<VarId>,
    /// Parameter names of the function, in order (`self` included).
    pub params: Vec<Name>,
    /// Parameters of the function for binding call arguments (keyword-only ones last).
    pub param_info: Vec<crate::model::Param>,
    /// Parameters the body assigns to: tests of them say nothing about the call's argument.
    pub rebound: Vec<Name>,
    /// Condition the code being lowered runs under (a test of a parameter around it).
    pub when: crate::model::CondId,
    /// Flow places of the local names bound here (see `flow::name_place`).
    pub flow_names: HashMap<Name, crate::model::Place>,
    /// Local lists and sets the body has put followed values into (`tasks.append(t)`): every
    /// later mention of one, but as the receiver of such a store or an argument of an
    /// inspecting builtin (`len`), hands its values on.
    pub containers: HashSet<Name>,
    /// Locals bound to a key that names the event loop (`key = (loop, name)`).
    pub loop_keys: HashSet<Name>,
    /// Local names of sockets put in non-blocking mode (`s.setblocking(False)`,
    /// `s.settimeout(0)`): their calls return at once instead of blocking.
    pub nonblocking: HashSet<Name>,
    /// Local names bound to the result of a call whose arguments name upper-case constants
    /// (`socket.socket(AF_INET, SOCK_DGRAM)`), with those names.
    pub made_with: HashMap<Name, Vec<Name>>,
    /// Local names of sync code bound to a coroutine it built (`c = job()`): the call, which
    /// runs where the coroutine is later handed to a loop (`asyncio.run(wrapper(c))`).
    pub coros: HashMap<Name, super::lower::Hoisted>,
    /// Local names bound to an element of a table of functions, with the table's path.
    pub table_locals: HashMap<Name, Box<str>>,
    /// Local names bound to a literal container of functions (`hooks = [f, g]`), with the
    /// path of the table that holds them.
    pub local_tables: HashMap<Name, Box<str>>,
}

impl Scope {
    /// An empty scope.
    pub fn new(kind: ScopeKind, fn_id: u32, is_async: bool) -> Scope {
        Scope {
            kind,
            fn_id,
            is_async,
            locals: HashSet::default(),
            globals_decl: HashSet::default(),
            nonlocals: HashSet::default(),
            imports: None,
            defs: HashMap::default(),
            vars: HashMap::default(),
            types: HashMap::default(),
            global_alias: HashMap::default(),
            attr_alias: HashMap::default(),
            class: None,
            class_level: false,
            class_idx: None,
            fixture_params: HashSet::default(),
            result_global: None,
            fixture: false,
            instance_cached: None,
            loop_depth: 0,
            owned: Vec::new(),
            params: Vec::new(),
            param_info: Vec::new(),
            rebound: Vec::new(),
            when: crate::model::CondId::TRUE,
            flow_names: HashMap::default(),
            containers: HashSet::default(),
            loop_keys: HashSet::default(),
            nonblocking: HashSet::default(),
            made_with: HashMap::default(),
            coros: HashMap::default(),
            table_locals: HashMap::default(),
            local_tables: HashMap::default(),
        }
    }
}

/// What a module-level name is, from the prescan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A function or class defined in the module.
    Def,
    /// A name bound to something that may hold a runtime-bound resource or object.
    Object,
    /// Any other binding (constants, plain data).
    Other,
}

/// What a module-level name resolves to, once the prescan has seen every module-level name
/// (see `Lowerer::module_res`).
#[derive(Debug, Clone)]
pub enum ModuleRes {
    /// An imported name, or a function, class or object of the module: its dotted path.
    Path(std::rc::Rc<str>),
    /// A module-level name that holds nothing of interest.
    Plain,
}

/// How a name resolves in the current scope.
#[derive(Debug, Clone)]
pub enum NameRes {
    /// A tracked variable.
    Var(VarId),
    /// A local alias of a global.
    GlobalAlias(u32),
    /// A pytest fixture parameter.
    Fixture,
    /// A nested function of an enclosing body.
    LocalFn(u32),
    /// A plain local variable.
    Local,
    /// A dotted path (imported name, module-level def, builtin), shared with the module's
    /// table of its names.
    Path(std::rc::Rc<str>),
    /// A module-level name that holds nothing of interest.
    Plain,
    /// A name bound nowhere in the module: a builtin (`open`, `input`).
    Builtin,
}

/// Context shared by the files of one project.
pub struct Ctx<'a> {
    /// The knowledge base.
    pub kb: &'a Kb,
    /// Module names of the project.
    pub modules: &'a ModuleSet,
    /// First segments of the project's module names (a quick filter for [`Self::modules`]).
    pub module_roots: HashSet<String>,
    /// Keyword argument names that some knowledge-base entry marks as removed (`loop`).
    pub deprecated_keywords: HashSet<String>,
    /// First segments of the knowledge base's Python paths (`asyncio`, `httpx`): a path with
    /// another root has no entry, so the lookup is skipped.
    pub roots: HashSet<String>,
    /// Method names the knowledge base matches on any receiver.
    pub methods: HashSet<String>,
    /// Builtin names the knowledge base has entries for (`open`, `input`).
    pub builtins: HashSet<String>,
    /// The project's pytest-asyncio settings.
    pub pytest: super::project::PytestConfig,
    /// Loop scopes that conftest hooks impose on test modules, by source index.
    pub hook_scopes: HashMap<usize, super::conftest::HookScope>,
    /// The Python knowledge base, indexed.
    pub index: &'a ApiIndex<'a>,
    /// The project's classes that derive from a library type (empty on the first lowering).
    pub subclasses: super::subclasses::Subclasses,
}

impl<'a> Ctx<'a> {
    /// Whether the knowledge base may have an entry for `path`.
    pub fn may_be_api(&self, path: &str) -> bool {
        self.roots.contains(first_segment(path))
    }

    /// The knowledge-base entries for `path` (exact entries from the index, prefix entries
    /// from the knowledge base itself).
    pub fn apis(&self, path: &str) -> Vec<&'a Api> {
        if !self.may_be_api(path) {
            return Vec::new();
        }
        if self.index.has_prefix_entries {
            return self.kb.lookup(Language::Python, path);
        }
        self.index.exact.get(path).cloned().unwrap_or_default()
    }

    /// Whether the knowledge base names `attr` as a state check on any receiver
    /// (`closed`, `is_closed`): reading it is no use of the resource.
    pub fn is_state_check(&self, attr: &str) -> bool {
        self.methods.contains(attr)
            && self
                .method_apis(attr)
                .iter()
                .any(|a| a.concept == crate::kb::Concept::StateCheck)
    }

    /// The entries matched by a method name on any receiver.
    pub fn method_apis(&self, method: &str) -> Vec<&'a Api> {
        self.index.methods.get(method).cloned().unwrap_or_default()
    }
}

/// The Python part of the knowledge base, indexed by `&str` for allocation-free lookups.
#[derive(Debug, Default)]
pub struct ApiIndex<'a> {
    /// Exact entries by path.
    pub exact: HashMap<&'a str, Vec<&'a Api>>,
    /// `any_receiver` entries by method name.
    pub methods: HashMap<&'a str, Vec<&'a Api>>,
    /// Whether some Python entry matches by prefix (then lookups go to the knowledge base).
    pub has_prefix_entries: bool,
    /// Runtime closes by method name (`close`), for receivers of unknown type.
    pub runtime_closes: HashMap<&'a str, &'a Api>,
    /// Method names of resource closes (`aclose`, `close`), for receivers of unknown type.
    pub resource_closes: HashSet<&'a str>,
}

impl<'a> ApiIndex<'a> {
    /// Indexes the Python entries of `kb`.
    pub fn new(kb: &'a Kb) -> Self {
        let mut index = ApiIndex::default();
        for api in kb.apis().iter().filter(|a| a.language == Language::Python) {
            match api.matching {
                crate::kb::Match::Exact => {
                    index.exact.entry(api.path.as_str()).or_default().push(api)
                }
                crate::kb::Match::Prefix => index.has_prefix_entries = true,
            }
            if api.any_receiver {
                let m = crate::kb::last_segment(Language::Python, &api.path);
                index.methods.entry(m).or_default().push(api);
            }
            if api.concept == Concept::ResourceClose {
                let m = crate::kb::last_segment(Language::Python, &api.path);
                index.resource_closes.insert(m);
            }
        }
        // A close of the type that the loop constructors return comes first.
        let loop_types: Vec<&str> = kb
            .apis()
            .iter()
            .filter(|a| a.language == Language::Python && a.concept == Concept::RuntimeNew)
            .filter_map(|a| a.returns.as_deref())
            .collect();
        for api in kb
            .apis()
            .iter()
            .filter(|a| a.language == Language::Python && a.concept == Concept::RuntimeClose)
        {
            let (owner, m) = api.path.rsplit_once('.').unwrap_or(("", &api.path));
            if loop_types.contains(&owner) {
                index.runtime_closes.insert(m, api);
            } else {
                index.runtime_closes.entry(m).or_insert(api);
            }
        }
        index
    }
}

// Dotted paths are short and taken apart on every call and at every link step: a plain byte
// search finds their dots sooner than `str`'s searchers, which are built for long texts.

/// The part of a dotted path before its first dot (all of it when it has none).
pub fn first_segment(path: &str) -> &str {
    match path.bytes().position(|b| b == b'.') {
        Some(at) => &path[..at],
        None => path,
    }
}

/// The offset of the last dot of a dotted path (`str::rfind('.')`).
pub fn last_dot(path: &str) -> Option<usize> {
    path.bytes().rposition(|b| b == b'.')
}

/// A dotted path split at its last dot (`str::rsplit_once('.')`).
pub fn split_last(path: &str) -> Option<(&str, &str)> {
    last_dot(path).map(|at| (&path[..at], &path[at + 1..]))
}

/// The part of a dotted path after its last dot (all of it when it has none).
pub fn last_segment(path: &str) -> &str {
    split_last(path).map_or(path, |(_, last)| last)
}

/// The segments of a dotted path, as `str::split('.')` gives them.
pub fn segments(path: &str) -> Segments<'_> {
    Segments { rest: Some(path) }
}

/// The iterator of [`segments`].
pub struct Segments<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for Segments<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        match s.bytes().position(|b| b == b'.') {
            Some(at) => {
                self.rest = Some(&s[at + 1..]);
                Some(&s[..at])
            }
            None => {
                self.rest = None;
                Some(s)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_paths_split_as_str_splits_them() {
        for p in [
            "", ".", "a", "a.b", "a.b.c", ".a", "a.", "a..b", "é.ü.x", "?S().m",
        ] {
            assert_eq!(
                segments(p).collect::<Vec<_>>(),
                p.split('.').collect::<Vec<_>>()
            );
            assert_eq!(segments(p).count(), p.split('.').count());
            assert_eq!(first_segment(p), p.split('.').next().unwrap_or(p));
            assert_eq!(last_segment(p), p.rsplit('.').next().unwrap_or(p));
            assert_eq!(split_last(p), p.rsplit_once('.'));
            assert_eq!(last_dot(p), p.rfind('.'));
        }
    }
}
