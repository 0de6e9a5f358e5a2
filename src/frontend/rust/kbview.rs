//! A view of the knowledge base for the Rust frontend: cheap pre-filters so that the common
//! case (a path no entry can match) costs one hash lookup, and the derived facts the frontend
//! needs about types (which types are runtimes, handles or runtime-bound resources).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::kb::{Api, Channel, Concept, Kb, RuntimeArg};
use crate::model::{Language, VarKind};

/// The Rust entries of the knowledge base, indexed for the frontend.
pub struct KbView<'a> {
    kb: &'a Kb,
    roots: HashSet<String>,
    methods: HashSet<String>,
    typed_methods: HashSet<String>,
    runtime_types: HashMap<String, VarKind>,
    bound_prefixes: HashMap<String, &'a Api>,
    exact: HashSet<&'a str>,
    prefixes: Vec<&'a str>,
    channels: Vec<&'a Channel>,
}

/// A family of channels of the knowledge base, by its index among the Rust ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChannelFamily(u16);

fn root(path: &str) -> &str {
    path.split("::").next().unwrap_or(path)
}

fn parent(path: &str) -> Option<&str> {
    path.rfind("::").map(|i| &path[..i])
}

impl<'a> KbView<'a> {
    /// The whole knowledge base.
    pub fn kb(&self) -> &'a Kb {
        self.kb
    }

    /// Whether a method of this name polls the future it wraps inside its receiver runtime's
    /// context (`rt.wrap(fut)`): matched by name, since the knowledge base names the extension
    /// trait that provides it rather than the runtime type.
    pub fn polls_in_receiver(&self, method: &str) -> bool {
        self.kb.apis().iter().any(|a| {
            a.polls_in_receiver
                && a.language == Language::Rust
                && a.path.rsplit("::").next() == Some(method)
        })
    }

    /// Indexes the Rust entries of `kb`.
    pub fn new(kb: &'a Kb) -> Self {
        let mut roots = HashSet::default();
        let mut methods = HashSet::default();
        let mut typed_methods = HashSet::default();
        let mut receivers: HashSet<String> = HashSet::default();
        let mut with_handle: HashSet<String> = HashSet::default();
        let mut bound_prefixes = HashMap::default();
        let mut exact = HashSet::default();
        let mut prefixes = Vec::new();
        // The crates whose generic code calls the program's trait impls are known crates too.
        for call in kb.impl_call_entries(Language::Rust) {
            for p in call.paths.iter().chain(&call.installers) {
                roots.insert(root(p).to_string());
            }
        }
        for api in kb.apis().iter().filter(|a| a.language == Language::Rust) {
            roots.insert(root(&api.path).to_string());
            match api.matching {
                crate::kb::Match::Exact => {
                    exact.insert(api.path.as_str());
                }
                crate::kb::Match::Prefix => prefixes.push(api.path.as_str()),
            }
            if api.matching == crate::kb::Match::Prefix && api.concept == Concept::RuntimeBound {
                bound_prefixes.insert(api.path.clone(), api);
            }
            if api.any_receiver {
                methods.insert(crate::kb::last_segment(Language::Rust, &api.path).to_string());
            }
            let ty = parent(&api.path);
            if let Some(ty) = ty {
                if crate::kb::last_segment(Language::Rust, ty)
                    .starts_with(|c: char| c.is_ascii_uppercase())
                {
                    typed_methods
                        .insert(crate::kb::last_segment(Language::Rust, &api.path).to_string());
                }
                if matches!(
                    api.concept,
                    Concept::BlockOn | Concept::Spawn | Concept::SpawnBlocking
                ) && api.runtime == RuntimeArg::Receiver
                {
                    receivers.insert(ty.to_string());
                }
                if matches!(api.concept, Concept::Handle | Concept::RuntimeClose)
                    && api.runtime == RuntimeArg::Receiver
                {
                    with_handle.insert(ty.to_string());
                }
            }
        }
        let runtime_types = receivers
            .into_iter()
            .map(|t| {
                let kind = if with_handle.contains(&t) {
                    VarKind::Runtime
                } else {
                    VarKind::Handle
                };
                (t, kind)
            })
            .collect();
        KbView {
            kb,
            roots,
            methods,
            typed_methods,
            runtime_types,
            bound_prefixes,
            exact,
            prefixes,
            channels: kb
                .channels()
                .iter()
                .filter(|c| c.language == Language::Rust)
                .collect(),
        }
    }

    /// The channel family whose maker a call of the path written `written` names
    /// (`mpsc::channel`, `unbounded`): the written path ends, segment by segment, a maker's
    /// full path.
    pub fn channel_maker(&self, written: &str) -> Option<ChannelFamily> {
        let ends = |maker: &str| {
            maker == written
                || maker
                    .strip_suffix(written)
                    .is_some_and(|head| head.ends_with("::"))
        };
        self.channels
            .iter()
            .position(|c| c.makers.iter().any(|m| ends(m)))
            .map(|i| ChannelFamily(i as u16))
    }

    /// Whether `method` sends its argument on a sender of the family (any family when `None`).
    pub fn channel_sends(&self, family: Option<ChannelFamily>, method: &str) -> bool {
        self.family(family)
            .any(|c| c.sends.iter().any(|s| s == method))
    }

    /// Whether `method` hands out a value of a receiver of the family (any family when `None`).
    pub fn channel_receives(&self, family: Option<ChannelFamily>, method: &str) -> bool {
        self.family(family)
            .any(|c| c.receives.iter().any(|s| s == method))
    }

    /// The type of the receiver that the channel maker at full path `maker` returns, when
    /// its family names one (`std::sync::mpsc::channel`: `std::sync::mpsc::Receiver`).
    pub fn channel_receiver(&self, maker: &str) -> Option<&'a str> {
        self.channels
            .iter()
            .find(|c| c.makers.iter().any(|m| m == maker))
            .and_then(|c| c.receiver.as_deref())
    }

    fn family(&self, family: Option<ChannelFamily>) -> impl Iterator<Item = &&'a Channel> {
        self.channels
            .iter()
            .enumerate()
            .filter(move |(i, _)| family.is_none_or(|f| f.0 as usize == *i))
            .map(|(_, c)| c)
    }

    /// Entries for a full path (exact or by prefix).
    pub fn apis(&self, path: &str) -> Vec<&'a Api> {
        if !self.roots.contains(root(path)) {
            return Vec::new();
        }
        let prefix_hit = self.prefixes.iter().any(|p| {
            path.len() > p.len() && path.starts_with(p) && path[p.len()..].starts_with("::")
        });
        if !prefix_hit && !self.exact.contains(path) {
            return Vec::new();
        }
        self.kb.lookup(Language::Rust, path)
    }

    /// Whether some entry may match a path starting with `first`.
    pub fn knows_root(&self, first: &str) -> bool {
        self.roots.contains(first)
    }

    /// Entries matched by a method name alone (receiver of unknown type).
    pub fn method_apis(&self, name: &str) -> Vec<&'a Api> {
        if !self.methods.contains(name) {
            return Vec::new();
        }
        self.kb.lookup_method_name(Language::Rust, name)
    }

    /// Whether some library type of the knowledge base has a method of this name.
    pub fn typed_method(&self, name: &str) -> bool {
        self.typed_methods.contains(name)
    }

    /// The runtime-bound entry matching a type or constructor path, if any.
    pub fn runtime_bound(&self, path: &str) -> Option<&'a Api> {
        if let Some(api) = self.bound_prefixes.get(path) {
            return Some(api);
        }
        let apis = self.apis(path);
        if apis.iter().any(|a| a.concept == Concept::RuntimeAgnostic) {
            return None;
        }
        apis.into_iter()
            .find(|a| a.concept == Concept::RuntimeBound)
    }

    /// What a variable of type `path` holds, when the type is a runtime, a handle or a
    /// runtime-bound resource.
    pub fn type_kind(&self, path: &str) -> Option<VarKind> {
        if let Some(k) = self.runtime_types.get(path) {
            return Some(*k);
        }
        self.runtime_bound(path).map(|_| VarKind::Resource)
    }
}
