//! Conditions under which code exists or runs.
//!
//! Two kinds of condition guard code without being runtime facts: the build configuration
//! (`#[cfg(feature = "sync")]`, `cfg(test)`, `cfg(unix)`), and the value a function's
//! parameter has when the function is entered (`if new_thread:`, `for _ in range(n)`, a
//! `match` on a flavor argument). Frontends attach a condition to every function and event
//! ([`super::Function::when`], [`super::Event::when`]); the analysis keeps, along each path,
//! the conditions it went through and drops a path whose conditions cannot all hold.
//! Build options nobody names are free: only a contradiction prunes.

use rustc_hash::FxHashMap as HashMap;

/// Index of a condition in [`Conds`]; [`CondId::TRUE`] always holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CondId(pub u32);

impl CondId {
    /// The condition that always holds.
    pub const TRUE: CondId = CondId(0);
}

/// A literal value, as a call site passes it or a parameter defaults to it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Lit {
    /// `true`/`True`, `false`/`False`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// `None` (Python) or `None` of an `Option` (Rust).
    None,
    /// A string.
    Str(Box<str>),
    /// An enum variant or enum member, by its last path segment (`MultiThread`).
    Variant(Box<str>),
}

impl Lit {
    /// Whether the value is true in a condition (Python truthiness; a Rust `bool`).
    pub fn truthy(&self) -> Option<bool> {
        Some(match self {
            Lit::Bool(b) => *b,
            Lit::Int(i) => *i != 0,
            Lit::None => false,
            Lit::Str(s) => !s.is_empty(),
            Lit::Variant(_) => return None,
        })
    }

    /// Whether two literals are equal, when the model can tell.
    fn equals(&self, other: &Lit) -> Option<bool> {
        match (self, other) {
            (Lit::Bool(a), Lit::Int(b)) | (Lit::Int(b), Lit::Bool(a)) => Some(i64::from(*a) == *b),
            (Lit::None, Lit::None) => Some(true),
            (Lit::None, _) | (_, Lit::None) => Some(false),
            (Lit::Variant(_), _) | (_, Lit::Variant(_))
                if std::mem::discriminant(self) != std::mem::discriminant(other) =>
            {
                None
            }
            _ if std::mem::discriminant(self) == std::mem::discriminant(other) => {
                Some(self == other)
            }
            _ => Some(false),
        }
    }
}

/// What a condition on a parameter tests.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ParamTest {
    /// The value is true (`if flag:`, `if flag {`).
    Truthy,
    /// `range(p)` has an item: the value is a positive integer.
    Positive,
    /// The value equals a literal (`== 0`, `is None`, a `match` arm naming a variant).
    Is(Lit),
}

/// A condition.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    /// Always holds.
    True,
    /// A build-configuration option: `feature = "sync"` (key and value), `test` (key alone).
    /// `unix` and `windows` are `target_family` values.
    Cfg {
        /// Option name.
        key: Box<str>,
        /// Its value, for key-value options.
        value: Option<Box<str>>,
    },
    /// A test on the value the function's parameter `index` (0-based, `self` included) has
    /// when the function is entered.
    Param {
        /// Parameter position.
        index: u32,
        /// What is tested.
        test: ParamTest,
    },
    /// Negation.
    Not(CondId),
    /// Every one holds.
    All(Vec<CondId>),
    /// At least one holds.
    Any(Vec<CondId>),
}

/// A parameter of a function whose conditions test parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Param {
    /// Source name (keyword arguments bind by it).
    pub name: String,
    /// Literal default value.
    pub default: Option<Lit>,
    /// Whether a positional argument may bind it (not keyword-only).
    pub positional: bool,
}

/// How a call passes an argument.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ArgKey {
    /// By position, counting the receiver of a method call as position 0.
    Pos(u32),
    /// By keyword.
    Name(Box<str>),
    /// By a position the frontend cannot tell (the receiver of a method call may or may not
    /// count): only keyword arguments of such a call bind, and no default applies.
    Unplaced,
}

/// What a call passes for one argument.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ArgVal {
    /// A literal.
    Lit(Lit),
    /// The caller's own parameter at this position, passed on unchanged.
    Param(u32),
    /// Anything else.
    Other,
}

/// The interned conditions of a program.
#[derive(Debug, Clone)]
pub struct Conds {
    list: Vec<Cond>,
    index: HashMap<Cond, CondId>,
}

impl Default for Conds {
    fn default() -> Self {
        let mut c = Conds {
            list: Vec::new(),
            index: HashMap::default(),
        };
        c.intern(Cond::True);
        c
    }
}

impl Conds {
    /// The id of a condition, added if new.
    pub fn intern(&mut self, cond: Cond) -> CondId {
        if let Some(&id) = self.index.get(&cond) {
            return id;
        }
        let id = CondId(self.list.len() as u32);
        self.list.push(cond.clone());
        self.index.insert(cond, id);
        id
    }

    /// The condition with the given id.
    pub fn get(&self, id: CondId) -> &Cond {
        &self.list[id.0 as usize]
    }

    /// Number of conditions.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether only [`Cond::True`] is there.
    pub fn is_empty(&self) -> bool {
        self.list.len() <= 1
    }

    /// `a` and `b`, flattened; `TRUE` sides dropped.
    pub fn and(&mut self, a: CondId, b: CondId) -> CondId {
        if a == CondId::TRUE || a == b {
            return b;
        }
        if b == CondId::TRUE {
            return a;
        }
        let mut parts = Vec::new();
        for x in [a, b] {
            match self.get(x) {
                Cond::All(v) => parts.extend(v.iter().copied()),
                _ => parts.push(x),
            }
        }
        parts.sort();
        parts.dedup();
        self.intern(Cond::All(parts))
    }

    /// Not `a`. `TRUE` stands for "nothing known" as often as for "always", so its negation
    /// is `TRUE` too: a negation never prunes more than what it negates.
    pub fn not(&mut self, a: CondId) -> CondId {
        match self.get(a) {
            Cond::True => a,
            Cond::Not(x) => *x,
            _ => self.intern(Cond::Not(a)),
        }
    }

    /// Copies condition `id` of `other` into this table.
    pub fn import(&mut self, other: &Conds, id: CondId) -> CondId {
        self.import_depth(other, id, 0)
    }

    fn import_depth(&mut self, other: &Conds, id: CondId, depth: u32) -> CondId {
        if id == CondId::TRUE || depth > 64 {
            return CondId::TRUE;
        }
        let cond = match other.get(id) {
            Cond::Not(x) => Cond::Not(self.import_depth(other, *x, depth + 1)),
            Cond::All(v) => Cond::All(
                v.iter()
                    .map(|x| self.import_depth(other, *x, depth + 1))
                    .collect(),
            ),
            Cond::Any(v) => Cond::Any(
                v.iter()
                    .map(|x| self.import_depth(other, *x, depth + 1))
                    .collect(),
            ),
            c => c.clone(),
        };
        self.intern(cond)
    }

    /// Whether `a` mentions a parameter.
    pub fn has_param(&self, a: CondId) -> bool {
        self.has_param_depth(a, 0)
    }

    fn has_param_depth(&self, a: CondId, depth: u32) -> bool {
        if depth > 64 {
            return true;
        }
        match self.get(a) {
            Cond::Param { .. } => true,
            Cond::Not(x) => self.has_param_depth(*x, depth + 1),
            Cond::All(v) | Cond::Any(v) => v.iter().any(|x| self.has_param_depth(*x, depth + 1)),
            _ => false,
        }
    }

    /// Whether the conjunction of `parts` can hold, with parameters bound to `args`
    /// (position, value; unbound parameters are free) and build options free. Answers `true`
    /// when the formula is too large to decide.
    ///
    /// Every assignment of the atoms is tried at once: a formula is a truth table with one bit
    /// per assignment (at most `2^MAX_ATOMS` bits), built bottom-up with word-wide `and`, `or`
    /// and `not`, and masked with the assignments that bound parameters and exclusive build
    /// options allow.
    pub fn satisfiable(&self, parts: &[CondId], args: &[(u32, Lit)]) -> bool {
        let mut atoms: Vec<CondId> = Vec::new();
        for &p in parts {
            if !self.atoms(p, &mut atoms, 0) {
                return true;
            }
        }
        if atoms.len() > MAX_ATOMS {
            return true;
        }
        let n = atoms.len();
        let words = (1usize << n).div_ceil(64);
        let mut ok = vec![u64::MAX; words];
        if n < 6 {
            ok[0] = (1u64 << (1u32 << n)) - 1;
        }
        // Bound parameters have one value; exclusive build options one at most.
        for (i, &a) in atoms.iter().enumerate() {
            match self.get(a) {
                Cond::Param { index, test } => {
                    if let Some((_, lit)) = args.iter().find(|(k, _)| k == index)
                        && let Some(v) = eval_test(test, lit)
                    {
                        let flip = if v { 0 } else { u64::MAX };
                        for (w, word) in ok.iter_mut().enumerate() {
                            *word &= atom_word(i, w) ^ flip;
                        }
                    }
                }
                Cond::Cfg { key, value } => {
                    for (j, &b) in atoms.iter().enumerate().skip(i + 1) {
                        if let Cond::Cfg { key: k2, value: v2 } = self.get(b)
                            && exclusive((key, value.as_deref()), (k2, v2.as_deref()))
                        {
                            for (w, word) in ok.iter_mut().enumerate() {
                                *word &= !(atom_word(i, w) & atom_word(j, w));
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        for &p in parts {
            let t = self.table(p, &atoms, words, 0);
            for (word, t) in ok.iter_mut().zip(t) {
                *word &= t;
            }
        }
        ok.iter().any(|&w| w != 0)
    }

    /// The truth table of `c` over the assignments of `atoms` (see [`Conds::satisfiable`]).
    fn table(&self, c: CondId, atoms: &[CondId], words: usize, depth: u32) -> Vec<u64> {
        if depth > 32 {
            return vec![u64::MAX; words];
        }
        match self.get(c) {
            Cond::True => vec![u64::MAX; words],
            Cond::Cfg { .. } | Cond::Param { .. } => match atoms.iter().position(|&a| a == c) {
                Some(i) => (0..words).map(|w| atom_word(i, w)).collect(),
                None => vec![u64::MAX; words],
            },
            Cond::Not(x) => {
                let mut t = self.table(*x, atoms, words, depth + 1);
                for w in &mut t {
                    *w = !*w;
                }
                t
            }
            Cond::All(v) => {
                let mut t = vec![u64::MAX; words];
                for x in v {
                    for (a, b) in t.iter_mut().zip(self.table(*x, atoms, words, depth + 1)) {
                        *a &= b;
                    }
                }
                t
            }
            Cond::Any(v) => {
                let mut t = vec![0; words];
                for x in v {
                    for (a, b) in t.iter_mut().zip(self.table(*x, atoms, words, depth + 1)) {
                        *a |= b;
                    }
                }
                t
            }
        }
    }

    fn atoms(&self, c: CondId, out: &mut Vec<CondId>, depth: u32) -> bool {
        if depth > 32 {
            return false;
        }
        match self.get(c) {
            Cond::True => true,
            Cond::Cfg { .. } | Cond::Param { .. } => {
                if !out.contains(&c) {
                    out.push(c);
                }
                out.len() <= MAX_ATOMS
            }
            Cond::Not(x) => self.atoms(*x, out, depth + 1),
            Cond::All(v) | Cond::Any(v) => v.iter().all(|x| self.atoms(*x, out, depth + 1)),
        }
    }
}

/// Formulas over more atoms than this are taken to be satisfiable.
const MAX_ATOMS: usize = 12;

/// Word `w` of the truth table of atom `i`: bit `k` of it stands for the assignment
/// `64 * w + k`, which gives atom `i` the value of its bit `i`.
fn atom_word(i: usize, w: usize) -> u64 {
    const LOW: [u64; 6] = [
        0xAAAA_AAAA_AAAA_AAAA,
        0xCCCC_CCCC_CCCC_CCCC,
        0xF0F0_F0F0_F0F0_F0F0,
        0xFF00_FF00_FF00_FF00,
        0xFFFF_0000_FFFF_0000,
        0xFFFF_FFFF_0000_0000,
    ];
    match LOW.get(i) {
        Some(&pattern) => pattern,
        None if (w >> (i - 6)) & 1 == 1 => u64::MAX,
        None => 0,
    }
}

/// What a parameter test gives for a literal value, when the model can tell.
pub fn eval_test(test: &ParamTest, lit: &Lit) -> Option<bool> {
    match test {
        ParamTest::Truthy => lit.truthy(),
        ParamTest::Positive => match lit {
            Lit::Int(i) => Some(*i > 0),
            Lit::Bool(b) => Some(*b),
            _ => None,
        },
        ParamTest::Is(want) => lit.equals(want),
    }
}

/// Build options that cannot both hold: two values of a single-valued target option, or
/// `unix` and `windows`.
fn exclusive(a: (&str, Option<&str>), b: (&str, Option<&str>)) -> bool {
    const SINGLE: &[&str] = &[
        "target_os",
        "target_arch",
        "target_env",
        "target_pointer_width",
        "target_endian",
        "target_vendor",
        "panic",
    ];
    let (Some(va), Some(vb)) = (a.1, b.1) else {
        return false;
    };
    if a.0 != b.0 || va == vb {
        return false;
    }
    if SINGLE.contains(&a.0) {
        return true;
    }
    a.0 == "target_family" && {
        let mut pair = [va, vb];
        pair.sort();
        pair == ["unix", "windows"]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The answer of [`Conds::satisfiable`] by trying one assignment after another.
    fn satisfiable_by_enumeration(c: &Conds, parts: &[CondId], args: &[(u32, Lit)]) -> bool {
        fn eval(c: &Conds, x: CondId, atoms: &[CondId], bits: u32) -> bool {
            match c.get(x) {
                Cond::True => true,
                Cond::Cfg { .. } | Cond::Param { .. } => atoms
                    .iter()
                    .position(|&a| a == x)
                    .is_none_or(|i| bits & (1 << i) != 0),
                Cond::Not(y) => !eval(c, *y, atoms, bits),
                Cond::All(v) => v.iter().all(|y| eval(c, *y, atoms, bits)),
                Cond::Any(v) => v.iter().any(|y| eval(c, *y, atoms, bits)),
            }
        }
        let mut atoms = Vec::new();
        for &p in parts {
            assert!(c.atoms(p, &mut atoms, 0));
        }
        (0u32..(1 << atoms.len())).any(|bits| {
            let val = |i: usize| bits & (1 << i) != 0;
            atoms.iter().enumerate().all(|(i, &a)| match c.get(a) {
                Cond::Param { index, test } => args
                    .iter()
                    .find(|(k, _)| k == index)
                    .and_then(|(_, lit)| eval_test(test, lit))
                    .is_none_or(|v| v == val(i)),
                Cond::Cfg { key, value } if val(i) => {
                    atoms.iter().enumerate().skip(i + 1).all(|(j, &b)| {
                        !val(j)
                            || !matches!(c.get(b), Cond::Cfg { key: k2, value: v2 }
                                if exclusive((key, value.as_deref()), (k2, v2.as_deref())))
                    })
                }
                _ => true,
            }) && parts.iter().all(|&p| eval(c, p, &atoms, bits))
        })
    }

    /// Truth tables answer as the enumeration of assignments does, over formulas of up to
    /// `MAX_ATOMS` atoms mixing features, exclusive targets and bound parameters.
    #[test]
    fn truth_tables_agree_with_enumeration() {
        let mut c = Conds::default();
        let mut leaves = Vec::new();
        for f in ["a", "b", "c", "d"] {
            leaves.push(cfg(&mut c, "feature", Some(f)));
        }
        for os in ["linux", "macos", "windows"] {
            leaves.push(cfg(&mut c, "target_os", Some(os)));
        }
        leaves.push(cfg(&mut c, "target_family", Some("unix")));
        leaves.push(cfg(&mut c, "target_family", Some("windows")));
        leaves.push(cfg(&mut c, "test", None));
        for index in 0..3 {
            leaves.push(c.intern(Cond::Param {
                index,
                test: ParamTest::Truthy,
            }));
        }
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let mut formulas = leaves.clone();
        for _ in 0..200 {
            let a = formulas[next(formulas.len())];
            let b = formulas[next(formulas.len())];
            let f = match next(3) {
                0 => c.not(a),
                1 => c.intern(Cond::All(vec![a, b])),
                _ => c.intern(Cond::Any(vec![a, b])),
            };
            formulas.push(f);
        }
        let bindings = [
            vec![],
            vec![(0, Lit::Bool(true))],
            vec![(1, Lit::Bool(false)), (2, Lit::Int(3))],
        ];
        let (mut yes, mut no) = (0, 0);
        for _ in 0..2000 {
            let parts: Vec<CondId> = (0..1 + next(3))
                .map(|_| formulas[next(formulas.len())])
                .collect();
            let mut atoms = Vec::new();
            if !parts.iter().all(|&p| c.atoms(p, &mut atoms, 0)) || atoms.len() > MAX_ATOMS {
                continue;
            }
            let args = &bindings[next(bindings.len())];
            let want = satisfiable_by_enumeration(&c, &parts, args);
            assert_eq!(c.satisfiable(&parts, args), want, "{parts:?} {args:?}");
            if want { yes += 1 } else { no += 1 }
        }
        assert!(yes > 100 && no > 100, "{yes} {no}");
    }

    fn cfg(c: &mut Conds, key: &str, value: Option<&str>) -> CondId {
        c.intern(Cond::Cfg {
            key: key.into(),
            value: value.map(Into::into),
        })
    }

    #[test]
    fn a_feature_and_its_negation_contradict() {
        let mut c = Conds::default();
        let sync = cfg(&mut c, "feature", Some("sync"));
        let not_sync = c.not(sync);
        let other = cfg(&mut c, "feature", Some("rustls"));
        assert!(!c.satisfiable(&[sync, not_sync], &[]));
        assert!(c.satisfiable(&[sync, other], &[]));
        assert!(c.satisfiable(&[not_sync], &[]));
    }

    #[test]
    fn target_values_exclude_each_other() {
        let mut c = Conds::default();
        let linux = cfg(&mut c, "target_os", Some("linux"));
        let mac = cfg(&mut c, "target_os", Some("macos"));
        let unix = cfg(&mut c, "target_family", Some("unix"));
        let windows = cfg(&mut c, "target_family", Some("windows"));
        let either = c.intern(Cond::Any(vec![linux, mac]));
        assert!(!c.satisfiable(&[linux, mac], &[]));
        assert!(!c.satisfiable(&[unix, windows], &[]));
        assert!(c.satisfiable(&[either, linux], &[]));
        assert!(c.satisfiable(&[linux, unix], &[]));
    }

    #[test]
    fn bound_parameters_decide_their_tests() {
        let mut c = Conds::default();
        let positive = c.intern(Cond::Param {
            index: 1,
            test: ParamTest::Positive,
        });
        assert!(!c.satisfiable(&[positive], &[(1, Lit::Int(0))]));
        assert!(c.satisfiable(&[positive], &[(1, Lit::Int(3))]));
        assert!(c.satisfiable(&[positive], &[(2, Lit::Int(0))]));
        let flag = c.intern(Cond::Param {
            index: 0,
            test: ParamTest::Truthy,
        });
        let not_flag = c.not(flag);
        assert!(!c.satisfiable(&[not_flag], &[(0, Lit::Bool(true))]));
        assert!(c.satisfiable(&[not_flag], &[(0, Lit::None)]));
    }
}
