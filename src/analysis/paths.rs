//! What a path of calls assumes: the build conditions it went through and the literal values
//! its last call gave the function's parameters.
//!
//! A context reached through `#[cfg(feature = "sync")]` code carries that condition on, so a
//! `#[cfg(not(feature = "sync"))]` statement further down is not on the path; a helper called
//! with `timeout=0` is entered with that binding, so its `for _ in range(timeout)` body is not
//! either. Conditions nobody contradicts prune nothing.

use std::cell::RefCell;

use rustc_hash::FxHashMap;

use crate::model::{ArgKey, ArgVal, CondId, Conds, Event, Function, Lit, Program};

/// Index of an interned path assumption; [`PathId::NONE`] assumes nothing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct PathId(pub u32);

impl PathId {
    /// The path that assumes nothing.
    pub const NONE: PathId = PathId(0);
}

/// At most this many build conditions are kept along a path; the oldest go first (assuming
/// less only keeps more paths).
const MAX_CONDS: usize = 8;

/// What a path assumes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Assumption {
    /// Build conditions that hold along the path (none mentions a parameter), sorted.
    pub conds: Vec<CondId>,
    /// Literal values of the current function's parameters, by position.
    pub args: Vec<(u32, Lit)>,
}

/// The interned assumptions of one program, and the answers already given about them (the
/// satisfiability of a path's conditions is decided by enumeration, and the same questions come
/// back for every event of every context).
#[derive(Debug)]
pub struct Paths {
    list: Vec<Assumption>,
    index: FxHashMap<Assumption, PathId>,
    /// Answers of [`Paths::allows`] by path and condition.
    allowed: RefCell<FxHashMap<(PathId, CondId), bool>>,
    /// The build conditions of the path [`Paths::step`] makes from a path through an event's
    /// and a callee's conditions (`None`: they cannot all hold).
    stepped: FxHashMap<(PathId, CondId, CondId), Option<Vec<CondId>>>,
}

impl Default for Paths {
    fn default() -> Self {
        let mut p = Paths {
            list: Vec::new(),
            index: FxHashMap::default(),
            allowed: RefCell::default(),
            stepped: FxHashMap::default(),
        };
        p.intern(Assumption::default());
        p
    }
}

impl Paths {
    fn intern(&mut self, a: Assumption) -> PathId {
        if let Some(&id) = self.index.get(&a) {
            return id;
        }
        let id = PathId(self.list.len() as u32);
        self.list.push(a.clone());
        self.index.insert(a, id);
        id
    }

    /// The assumption with the given id.
    pub fn get(&self, id: PathId) -> &Assumption {
        &self.list[id.0 as usize]
    }

    /// Whether a path with assumption `path` can reach code under condition `when` of the
    /// function the path is in.
    pub fn allows(&self, conds: &Conds, path: PathId, when: CondId) -> bool {
        if when == CondId::TRUE {
            return true;
        }
        if let Some(&known) = self.allowed.borrow().get(&(path, when)) {
            return known;
        }
        let a = self.get(path);
        let mut parts = a.conds.clone();
        parts.push(when);
        let answer = conds.satisfiable(&parts, &a.args);
        self.allowed.borrow_mut().insert((path, when), answer);
        answer
    }

    /// The assumption of a path that goes on from `path` through event `ev` into body
    /// `callee`, with the callee's parameters bound to `args`; `None` when its conditions
    /// cannot all hold.
    pub fn step(
        &mut self,
        program: &Program,
        path: PathId,
        ev: &Event,
        callee: &Function,
        args: Vec<(u32, Lit)>,
    ) -> Option<PathId> {
        let conds = &program.conds;
        if !self.allows(conds, path, ev.when) {
            return None;
        }
        let from = self.get(path);
        if ev.when == CondId::TRUE && callee.when == CondId::TRUE && args.is_empty() {
            return Some(if from.args.is_empty() {
                path
            } else {
                self.intern(Assumption {
                    conds: from.conds.clone(),
                    args,
                })
            });
        }
        let key = (path, ev.when, callee.when);
        let next = match self.stepped.get(&key) {
            Some(known) => known.clone(),
            None => {
                let next = next_conds(conds, &from.conds, ev.when, callee.when);
                self.stepped.insert(key, next.clone());
                next
            }
        };
        Some(self.intern(Assumption { conds: next?, args }))
    }
}

/// The build conditions of a path with conditions `from` that goes through code under `when`
/// into a body under `inner`; `None` when they cannot all hold.
fn next_conds(conds: &Conds, from: &[CondId], when: CondId, inner: CondId) -> Option<Vec<CondId>> {
    let mut next = from.to_vec();
    for c in [when, inner] {
        // A test of the caller's parameters means nothing in the callee.
        if c != CondId::TRUE && !conds.has_param(c) && !next.contains(&c) {
            next.push(c);
        }
    }
    if next.len() != from.len() && !conds.satisfiable(&next, &[]) {
        return None;
    }
    while next.len() > MAX_CONDS {
        next.remove(0);
    }
    next.sort();
    Some(next)
}

/// The literal values a call at `ev` gives the parameters of `callee`, by position: literal
/// arguments, the caller's own parameters passed on (bound by the caller's path, `outer`), and
/// the defaults of parameters the call leaves out. Empty when the callee tests no parameter or
/// the call's arguments are not known.
pub fn bind(
    program: &Program,
    ev: &Event,
    callee: &Function,
    outer: &[(u32, Lit)],
) -> Vec<(u32, Lit)> {
    if callee.params.is_empty() {
        return Vec::new();
    }
    let Some(given) = program.call_args.get(&ev.span) else {
        return Vec::new();
    };
    let unplaced = given.iter().any(|(key, _)| *key == ArgKey::Unplaced);
    let mut out = Vec::new();
    for (k, p) in callee.params.iter().enumerate() {
        let arg = given.iter().find(|(key, _)| match key {
            ArgKey::Pos(i) => p.positional && *i as usize == k,
            ArgKey::Name(n) => **n == *p.name,
            ArgKey::Unplaced => false,
        });
        let value = match arg {
            Some((_, ArgVal::Lit(l))) => Some(l.clone()),
            Some((_, ArgVal::Param(i))) => {
                outer.iter().find(|(k, _)| k == i).map(|(_, l)| l.clone())
            }
            Some((_, ArgVal::Other)) => None,
            None if unplaced => None,
            None => p.default.clone(),
        };
        if let Some(v) = value {
            out.push((k as u32, v));
        }
    }
    out
}
