//! Project classes that subclass a library type the knowledge base builds (`class
//! ApiClient(httpx.AsyncClient)`, `class MyLoop(asyncio.SelectorEventLoop)`), directly or
//! through other project classes.
//!
//! Bases are only known once every file of the project is lowered, so the linker finds these
//! classes ([`super::link::library_subclasses`]) and the files that name one are lowered again
//! knowing them: calling such a class makes what the library constructor makes (a runtime-bound
//! resource, an event loop), and a method the class and its project bases do not define is the
//! library type's (`run_until_complete`, `close`, `aclose`). Methods the project defines stay
//! the project's. A class whose bases the knowledge base does not know is an ordinary class.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use ruff_python_ast::name::Name;

use super::imports::dotted;
use super::ir::FileIr;
use super::lower::Lowerer;
use crate::kb::{Api, Concept};

/// A project class whose constructor is a library type's.
#[derive(Debug, Clone)]
pub struct LibClass {
    /// Dotted path of the class.
    pub class: String,
    /// The library type it derives from, as the knowledge base names its constructor.
    pub base: String,
    /// Methods the class and its project bases define.
    pub methods: HashSet<Name>,
}

/// The project's library subclasses, by every path that names them (the class's own path,
/// re-exports and imports under another name, `?Name` for a unique short name).
#[derive(Debug, Default)]
pub struct Subclasses {
    by_path: HashMap<Box<str>, u32>,
    classes: Vec<LibClass>,
}

impl Subclasses {
    /// Whether the project has none.
    pub fn is_empty(&self) -> bool {
        self.classes.is_empty()
    }

    /// The class a path names.
    pub fn get(&self, path: &str) -> Option<&LibClass> {
        let &i = self.by_path.get(path)?;
        self.classes.get(i as usize)
    }

    /// Adds a class; returns its index.
    pub(super) fn add(&mut self, class: LibClass) -> u32 {
        let i = self.classes.len() as u32;
        self.by_path.insert(class.class.as_str().into(), i);
        self.classes.push(class);
        i
    }

    /// Names class `i` by another path too.
    pub(super) fn alias(&mut self, path: &str, i: u32) {
        self.by_path.entry(path.into()).or_insert(i);
    }

    /// The files (indices into `files`) that define or name one of the classes: those whose
    /// lowering changes once the classes are known.
    pub fn affected(&self, files: &[FileIr]) -> Vec<usize> {
        let names = |p: &str| {
            self.by_path.keys().any(|k| {
                p.strip_prefix(&**k)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '(']))
            })
        };
        (0..files.len())
            .filter(|&k| {
                let f = &files[k];
                f.classes.iter().any(|c| self.get(&c.path).is_some())
                    || f.paths.iter().any(&names)
                    || f.defs.values().any(|d| match d {
                        super::ir::Def::Alias(p) | super::ir::Def::Instance(p) => names(p),
                        _ => false,
                    })
            })
            .collect()
    }
}

/// Whether a knowledge-base entry builds an object a class can derive from: a runtime-bound
/// resource or an event loop.
pub fn is_constructor(api: &Api) -> bool {
    matches!(api.concept, Concept::RuntimeBound | Concept::RuntimeNew)
}

impl<'a> Lowerer<'a> {
    /// The library subclass a called path names.
    pub(super) fn subclass(&self, path: &str) -> Option<&'a LibClass> {
        self.cx.subclasses.get(path)
    }

    /// The knowledge-base constructors of a library subclass.
    pub(super) fn subclass_ctors(&self, class: &LibClass) -> Vec<&'a Api> {
        let mut apis = self.cx.apis(&class.base);
        apis.retain(|a| is_constructor(a));
        apis
    }

    /// The library type that an instance type of a library subclass stands for (the type the
    /// base's constructor returns), when `ty` is one.
    pub(super) fn library_type(&self, ty: &str) -> Option<String> {
        let class = self.subclass(ty.strip_suffix("()")?)?;
        let apis = self.subclass_ctors(class);
        Some(
            apis.iter()
                .find_map(|a| a.returns.clone())
                .unwrap_or_else(|| class.base.clone()),
        )
    }

    /// The library method called by `method` on an instance of type `ty`, when `ty` is a
    /// library subclass that does not define the method itself.
    pub(super) fn inherited_method(&self, ty: &str, method: &str) -> Option<String> {
        let class = self.subclass(ty.strip_suffix("()")?)?;
        if class.methods.contains(method) {
            return None;
        }
        Some(dotted(&self.library_type(ty)?, method))
    }

    /// The project method called by `method` on an instance of type `ty`, when `ty` is a
    /// library subclass that defines (overrides) the method.
    pub(super) fn overriding_method(&self, ty: &str, method: &str) -> Option<String> {
        let class = self.subclass(ty.strip_suffix("()")?)?;
        class.methods.contains(method).then(|| dotted(ty, method))
    }

    /// Whether `typed` (`pkg.ApiClient().aclose`) is a method that a library subclass defines
    /// over its library type's close method: an override of a close closes too.
    pub(super) fn overrides_close(&self, typed: &str) -> bool {
        let Some((ty, method)) = typed.rsplit_once('.') else {
            return false;
        };
        if self.overriding_method(ty, method).is_none() {
            return false;
        }
        self.library_type(ty).is_some_and(|lib| {
            self.cx
                .apis(&dotted(&lib, method))
                .iter()
                .any(|a| a.concept == Concept::ResourceClose)
        })
    }
}
