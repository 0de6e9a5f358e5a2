//! The flow facts of one file, packed: every Python file's facts stay alive until its project
//! is linked, and most of them are dropped there (`carriers`), so they are kept small until
//! then. A place is one `u32` (its kind in the top bits), a call's result and arguments sit in
//! one list per file, and a fact is 24 bytes; [`crate::model::Fact`]s are made only for the facts the
//! linker keeps.

use ruff_python_ast::name::Name;
use rustc_hash::FxHashMap as HashMap;

use crate::model::{Cell, CellId, CellKind, Fact, FactKind, FnId, Place, Span, VarId};

/// Bits of a [`Code`] that hold the index.
const INDEX_BITS: u32 = 29;
/// Mask of the index of a [`Code`].
const INDEX: u32 = (1 << INDEX_BITS) - 1;

/// A packed place: a temporary, a function's return, a cell or a variable by index, or a
/// parameter by its index in [`FileFacts::params`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Code(u32);

/// The kinds of [`Code`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CodeKind {
    Temp = 0,
    Ret = 1,
    Cell = 2,
    Var = 3,
    Param = 4,
}

impl Code {
    /// No place (an argument or a result the flow does not follow).
    pub const NONE: Code = Code(u32::MAX);

    fn new(kind: CodeKind, index: u32) -> Code {
        assert!(index <= INDEX, "flow place index out of range");
        Code(((kind as u32) << INDEX_BITS) | index)
    }

    fn kind(self) -> Option<CodeKind> {
        Some(match self.0 >> INDEX_BITS {
            0 => CodeKind::Temp,
            1 => CodeKind::Ret,
            2 => CodeKind::Cell,
            3 => CodeKind::Var,
            4 => CodeKind::Param,
            _ => return None,
        })
    }

    fn index(self) -> u32 {
        self.0 & INDEX
    }

    /// The same kind of place with its index changed by `f`.
    fn map(self, f: impl FnOnce(CodeKind, u32) -> u32) -> Code {
        match self.kind() {
            Some(k) => Code::new(k, f(k, self.index())),
            None => self,
        }
    }
}

/// A packed fact.
#[derive(Clone, Copy, Debug)]
pub enum Packed {
    /// [`FactKind::New`].
    New { event: u32, to: Code },
    /// [`FactKind::Assign`].
    Assign { to: Code, from: Code },
    /// [`FactKind::HandleOf`].
    HandleOf { to: Code, from: Code },
    /// [`FactKind::Call`]: its result is `args[start]` of [`FileFacts::args`], its arguments
    /// the `len` places after it (see [`FileFacts::call_args`]).
    Call { event: u32, start: u32, len: u16 },
    /// [`FactKind::Load`].
    Load { to: Code, cell: u32 },
    /// [`FactKind::Store`].
    Store {
        cell: u32,
        from: Code,
        overwrite: bool,
    },
    /// [`FactKind::Subject`].
    Subject { event: u32, place: Code },
    /// [`FactKind::Use`] (`NO_METHOD` for none).
    Use { place: Code, method: u16 },
    /// [`FactKind::Drop`].
    Drop { place: Code },
    /// [`FactKind::Reset`].
    Reset { place: Code },
    /// [`FactKind::Close`].
    Close { place: Code },
    /// [`FactKind::Escape`].
    Escape { place: Code },
    /// [`FactKind::Release`].
    Release { cell: u32 },
}

/// One packed fact of a function, at `start..end` of its file.
#[derive(Clone, Copy, Debug)]
pub struct PackedFact {
    /// The function (file-local until linked).
    pub func: u32,
    /// Start offset.
    pub start: u32,
    /// End offset.
    pub end: u32,
    /// What happens.
    pub kind: Packed,
}

const _: () = assert!(std::mem::size_of::<PackedFact>() <= 24);

/// The method of a packed use that names none.
const NO_METHOD: u16 = u16::MAX;

/// Most arguments a packed call keeps (the ones after are not followed).
const MAX_ARGS: usize = u16::MAX as usize;

/// The flow facts of one file.
#[derive(Debug, Default)]
pub struct FileFacts {
    /// The facts, in the order they were recorded.
    pub facts: Vec<PackedFact>,
    /// Arguments of calls.
    pub args: Vec<Code>,
    /// Keyword arguments of calls: the index in `args` that holds each one's place, and its
    /// name, in the order of `args`. The linker binds them to positions by the callee's
    /// parameter names ([`FileFacts::bind_keywords`]).
    keywords: Vec<(u32, Name)>,
    /// Parameters named by [`Code`]s: function and position.
    pub params: Vec<(u32, u32)>,
    /// Index of each parameter in `params`, while the file is lowered.
    param_ids: HashMap<(u32, u32), u32>,
    /// What calls of project functions pass, where it is known (no `*args` or `**kwargs`):
    /// the calling function and the call's offsets, how many positional arguments (the
    /// receiver or the instance first) and the names of the keyword arguments. A parameter
    /// the call leaves out takes its default ([`FileFacts::fill_defaults`]).
    passed: Vec<Passed>,
}

/// What a call passes (see [`FileFacts::note_passed`]).
#[derive(Clone, Debug)]
struct Passed {
    func: u32,
    start: u32,
    end: u32,
    positional: u16,
    keywords: Box<[Name]>,
}

impl FileFacts {
    /// Whether there is no fact.
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }

    /// Records a fact of function `func` at `span`.
    pub fn push(&mut self, func: u32, span: Span, kind: FactKind) {
        let kind = match kind {
            FactKind::New { event, to } => Packed::New {
                event,
                to: self.code(to),
            },
            FactKind::Assign { to, from } => Packed::Assign {
                to: self.code(to),
                from: self.code(from),
            },
            FactKind::HandleOf { to, from } => Packed::HandleOf {
                to: self.code(to),
                from: self.code(from),
            },
            FactKind::Call {
                event,
                args,
                result,
            } => {
                let start = self.args.len() as u32;
                let result = result.map_or(Code::NONE, |p| self.code(p));
                self.args.push(result);
                for a in args.into_iter().take(MAX_ARGS) {
                    let c = a.map_or(Code::NONE, |p| self.code(p));
                    self.args.push(c);
                }
                Packed::Call {
                    event,
                    start,
                    len: (self.args.len() as u32 - start - 1) as u16,
                }
            }
            FactKind::Load { to, cell } => Packed::Load {
                to: self.code(to),
                cell: cell.0,
            },
            FactKind::Store {
                cell,
                from,
                overwrite,
            } => Packed::Store {
                cell: cell.0,
                from: self.code(from),
                overwrite,
            },
            FactKind::Subject { event, place } => Packed::Subject {
                event,
                place: self.code(place),
            },
            FactKind::Use { place, method } => Packed::Use {
                place: self.code(place),
                method: method.unwrap_or(NO_METHOD),
            },
            FactKind::Drop { place } => Packed::Drop {
                place: self.code(place),
            },
            FactKind::Reset { place } => Packed::Reset {
                place: self.code(place),
            },
            FactKind::Close { place } => Packed::Close {
                place: self.code(place),
            },
            FactKind::Escape { place } => Packed::Escape {
                place: self.code(place),
            },
            FactKind::Release { cell, .. } => Packed::Release { cell: cell.0 },
            // Closures kept as values and calls through them are not recorded in Python.
            // Nor are lazily initialised fields.
            // Nor are values moved out of containers.
            FactKind::Body { .. }
            | FactKind::CallVia { .. }
            | FactKind::Lazy { .. }
            | FactKind::TakeOut { .. } => return,
        };
        self.facts.push(PackedFact {
            func,
            start: span.start,
            end: span.end,
            kind,
        });
    }

    /// The last fact recorded, a call, also passes `kwargs` by name.
    pub fn keywords_of_last(&mut self, kwargs: &[(Name, Place)]) {
        if kwargs.is_empty() {
            return;
        }
        let Some(PackedFact {
            kind: Packed::Call { start, len, .. },
            ..
        }) = self.facts.last().copied()
        else {
            return;
        };
        // The call's arguments are the last ones recorded.
        if start + 1 + u32::from(len) != self.args.len() as u32
            || usize::from(len) + kwargs.len() > MAX_ARGS
        {
            return;
        }
        for (name, place) in kwargs {
            let c = self.code(*place);
            self.keywords.push((self.args.len() as u32, name.clone()));
            self.args.push(c);
        }
        if let Some(PackedFact {
            kind: Packed::Call { len, .. },
            ..
        }) = self.facts.last_mut()
        {
            *len += kwargs.len() as u16;
        }
    }

    /// The call of function `func` at `start..end` passes `positional` arguments by position
    /// (the receiver or the instance first) and the keywords `keywords`, and nothing more.
    pub fn note_passed(
        &mut self,
        func: u32,
        (start, end): (u32, u32),
        positional: usize,
        keywords: Box<[Name]>,
    ) {
        let Ok(positional) = u16::try_from(positional) else {
            return;
        };
        self.passed.push(Passed {
            func,
            start,
            end,
            positional,
            keywords,
        });
    }

    /// Gives the parameters that (linked) calls leave out the values of their defaults:
    /// `omitted(func, event, positional, keywords)` is, for the call event `event` of `func`
    /// that passes `positional` arguments by position and `keywords` by name, the parameters
    /// left out whose default value the flow follows, with the place holding it (a static
    /// cell, filled where the `def` runs). Calls whose arguments are not all known (`*args`,
    /// `**kwargs`) take no default. `fn_base` is what linking added to the functions.
    pub fn fill_defaults(
        &mut self,
        fn_base: u32,
        mut omitted: impl FnMut(u32, u32, u16, &[Name]) -> Vec<(u32, Place)>,
    ) {
        if self.passed.is_empty() {
            return;
        }
        let passed = std::mem::take(&mut self.passed);
        let by_site: HashMap<(u32, u32, u32), &Passed> = passed
            .iter()
            .map(|p| ((p.func + fn_base, p.start, p.end), p))
            .collect();
        for i in 0..self.facts.len() {
            let f = self.facts[i];
            let Packed::Call { event, start, len } = f.kind else {
                continue;
            };
            let Some(p) = by_site.get(&(f.func, f.start, f.end)) else {
                continue;
            };
            let filled = omitted(f.func, event, p.positional, &p.keywords);
            if filled.is_empty() {
                continue;
            }
            let from = start as usize + 1;
            let mut bound: Vec<Code> = self.args[from..from + usize::from(len)].to_vec();
            for (k, place) in filled {
                let k = k as usize;
                if k >= 64 {
                    continue;
                }
                if bound.len() <= k {
                    bound.resize(k + 1, Code::NONE);
                }
                if bound[k] == Code::NONE {
                    bound[k] = self.code(place);
                }
            }
            let result = self.args[start as usize];
            let new_start = self.args.len() as u32;
            self.args.push(result);
            self.args.extend(bound.iter().copied());
            if let Packed::Call { start, len, .. } = &mut self.facts[i].kind {
                *start = new_start;
                *len = bound.len() as u16;
            }
        }
    }

    /// Binds the keyword arguments of (linked) calls to positions: `position(func, event,
    /// name)` is the position of the parameter of that name in every callee of the call, if
    /// they agree. A keyword whose position is unknown, or already taken, is not bound.
    /// `shift(func, event)` positional arguments that the call does not show come first (a
    /// partial's bound ones); `shifts` tells whether any call has some.
    pub fn bind_keywords(
        &mut self,
        position: impl Fn(u32, u32, &str) -> Option<u32>,
        shift: impl Fn(u32, u32) -> u8,
        shifts: bool,
    ) {
        if self.keywords.is_empty() && !shifts {
            return;
        }
        let keywords = std::mem::take(&mut self.keywords);
        for f in &mut self.facts {
            let Packed::Call {
                event, start, len, ..
            } = &mut f.kind
            else {
                continue;
            };
            let end = *start + 1 + u32::from(*len);
            let first = keywords.partition_point(|(i, _)| *i <= *start);
            let kws = &keywords[first..keywords.partition_point(|(i, _)| *i < end)];
            let hidden = if shifts { shift(f.func, *event) } else { 0 };
            if kws.is_empty() && hidden == 0 {
                continue;
            }
            let n_pos = usize::from(*len) - kws.len();
            let from = *start as usize + 1;
            let mut bound: Vec<Code> = vec![Code::NONE; hidden.into()];
            bound.extend_from_slice(&self.args[from..from + n_pos]);
            for (i, name) in kws {
                let Some(p) = position(f.func, *event, name.as_str()) else {
                    continue;
                };
                let p = p as usize;
                if p >= 64 {
                    continue;
                }
                if bound.len() <= p {
                    bound.resize(p + 1, Code::NONE);
                }
                if bound[p] == Code::NONE {
                    bound[p] = self.args[*i as usize];
                }
            }
            bound.truncate(MAX_ARGS);
            let result = self.args[*start as usize];
            *start = self.args.len() as u32;
            *len = bound.len() as u16;
            self.args.push(result);
            self.args.extend(bound);
        }
    }

    /// The cells that (linked) facts write into: stores and assignments.
    pub fn written_cells(&self) -> impl Iterator<Item = CellId> + '_ {
        self.facts.iter().filter_map(|f| match f.kind {
            Packed::Store { cell, .. } => Some(CellId(cell)),
            Packed::Assign { to, .. } => match self.place(to) {
                Some(Place::Cell(c)) => Some(c),
                _ => None,
            },
            _ => None,
        })
    }

    /// The code of a place.
    fn code(&mut self, p: Place) -> Code {
        match p {
            Place::Temp(t) => Code::new(CodeKind::Temp, t),
            Place::Ret(f) => Code::new(CodeKind::Ret, f.0),
            Place::Cell(c) => Code::new(CodeKind::Cell, c.0),
            Place::Var(v) => Code::new(CodeKind::Var, v.0),
            Place::Param(f, i) => {
                let next = self.params.len() as u32;
                let id = *self.param_ids.entry((f.0, i)).or_insert(next);
                if id == next {
                    self.params.push((f.0, i));
                }
                Code::new(CodeKind::Param, id)
            }
        }
    }

    /// Fills of instance attributes that code elsewhere empties or replaces (`attrs`, by
    /// name) replace what the attribute held: a store into such an attribute of `cells` is
    /// never a fill once per instance.
    pub fn renew(&mut self, cells: &[Cell], attrs: &[Name]) {
        if attrs.is_empty() {
            return;
        }
        for f in &mut self.facts {
            if let Packed::Store {
                cell,
                overwrite: overwrite @ false,
                ..
            } = &mut f.kind
                && let Some(c) = cells.get(*cell as usize)
                && c.kind == CellKind::Field
                && attrs.iter().any(|a| a.as_str() == c.name)
            {
                *overwrite = true;
            }
        }
    }

    /// A close of a module global of `module` named in `names` (globals whose state a test
    /// checks before filling them again) also resets it: the next run fills it anew.
    pub fn reset_closed(&mut self, cells: &[Cell], module: &str, names: &[Name]) {
        if names.is_empty() {
            return;
        }
        let mut resets = Vec::new();
        for f in &self.facts {
            if let Packed::Close { place } = f.kind
                && place.kind() == Some(CodeKind::Cell)
                && let Some(c) = cells.get(place.index() as usize)
                && c.kind == CellKind::Static
                && c.owner == module
                && names.iter().any(|n| n.as_str() == c.name)
            {
                resets.push(PackedFact {
                    kind: Packed::Reset { place },
                    ..*f
                });
            }
        }
        self.facts.extend(resets);
    }

    /// Done recording: the lists are shrunk to size.
    pub fn finish(&mut self) {
        self.param_ids = HashMap::default();
        self.keywords.shrink_to_fit();
        self.passed.shrink_to_fit();
        self.facts.shrink_to_fit();
        self.args.shrink_to_fit();
        self.params.shrink_to_fit();
    }

    /// A finished copy, each list at its exact size.
    pub fn copy(&self) -> FileFacts {
        FileFacts {
            facts: self.facts.clone(),
            args: self.args.clone(),
            keywords: self
                .keywords
                .iter()
                .map(|(at, name)| (*at, super::ir::own(name)))
                .collect(),
            params: self.params.clone(),
            param_ids: HashMap::default(),
            passed: self
                .passed
                .iter()
                .map(|p| Passed {
                    func: p.func,
                    start: p.start,
                    end: p.end,
                    positional: p.positional,
                    keywords: p.keywords.iter().map(super::ir::own).collect(),
                })
                .collect(),
        }
    }

    /// The place of a code.
    pub fn place(&self, c: Code) -> Option<Place> {
        let i = c.index();
        Some(match c.kind()? {
            CodeKind::Temp => Place::Temp(i),
            CodeKind::Ret => Place::Ret(FnId(i)),
            CodeKind::Cell => Place::Cell(CellId(i)),
            CodeKind::Var => Place::Var(VarId(i)),
            CodeKind::Param => {
                let (f, k) = *self.params.get(i as usize)?;
                Place::Param(FnId(f), k)
            }
        })
    }

    /// The arguments of a packed call.
    pub fn call_args(&self, start: u32, len: u16) -> &[Code] {
        let first = start as usize + 1;
        self.args
            .get(first..first + usize::from(len))
            .unwrap_or(&[])
    }

    /// The result of a packed call.
    pub fn call_result(&self, start: u32) -> Code {
        self.args.get(start as usize).copied().unwrap_or(Code::NONE)
    }

    /// The places a packed fact mentions (a cell read or written is not one of them: the fact
    /// is about the value it moves).
    pub fn places<'a>(&'a self, f: &'a PackedFact) -> impl Iterator<Item = Place> + 'a {
        let (a, b) = match f.kind {
            Packed::New { to, .. } | Packed::Load { to, .. } => (to, Code::NONE),
            Packed::Assign { to, from } | Packed::HandleOf { to, from } => (to, from),
            Packed::Store { from, .. } => (from, Code::NONE),
            Packed::Call { start, .. } => (self.call_result(start), Code::NONE),
            Packed::Subject { place, .. }
            | Packed::Use { place, .. }
            | Packed::Drop { place }
            | Packed::Reset { place }
            | Packed::Close { place }
            | Packed::Escape { place } => (place, Code::NONE),
            Packed::Release { .. } => (Code::NONE, Code::NONE),
        };
        let args = match f.kind {
            Packed::Call { start, len, .. } => self.call_args(start, len),
            _ => &[],
        };
        [a, b]
            .into_iter()
            .chain(args.iter().copied())
            .filter_map(|c| self.place(c))
    }

    /// Links the facts in place: functions shift by `fn_base`, variables by `var_base`,
    /// temporaries by `temp_base`, cells through `cell_ids`, and events through
    /// `event(func, e)` (file-local function and event; `None` drops the fact).
    pub fn link(
        &mut self,
        fn_base: u32,
        var_base: u32,
        temp_base: u32,
        cell_ids: &[CellId],
        event: impl Fn(u32, u32) -> Option<u32>,
    ) {
        let shift = |c: Code| {
            c.map(|k, i| match k {
                CodeKind::Temp => i + temp_base,
                CodeKind::Ret => i + fn_base,
                CodeKind::Cell => cell_ids[i as usize].0,
                CodeKind::Var => i + var_base,
                CodeKind::Param => i,
            })
        };
        let cell = |c: &mut u32| *c = cell_ids[*c as usize].0;
        for a in &mut self.args {
            *a = shift(*a);
        }
        for (f, _) in &mut self.params {
            *f += fn_base;
        }
        self.facts.retain_mut(|f| {
            let local = f.func;
            f.func += fn_base;
            let ev = |e: &mut u32| match event(local, *e) {
                Some(x) => {
                    *e = x;
                    true
                }
                None => false,
            };
            match &mut f.kind {
                Packed::New { event: e, to } => {
                    *to = shift(*to);
                    ev(e)
                }
                Packed::Assign { to, from } | Packed::HandleOf { to, from } => {
                    *to = shift(*to);
                    *from = shift(*from);
                    true
                }
                // The result sits among the arguments, shifted above.
                Packed::Call { event: e, .. } => ev(e),
                Packed::Load { to, cell: c } => {
                    *to = shift(*to);
                    cell(c);
                    true
                }
                Packed::Store { cell: c, from, .. } => {
                    cell(c);
                    *from = shift(*from);
                    true
                }
                Packed::Subject { event: e, place } => {
                    *place = shift(*place);
                    ev(e)
                }
                Packed::Use { place, .. }
                | Packed::Drop { place }
                | Packed::Reset { place }
                | Packed::Close { place }
                | Packed::Escape { place } => {
                    *place = shift(*place);
                    true
                }
                Packed::Release { cell: c } => {
                    cell(c);
                    true
                }
            }
        });
    }

    /// The model fact of a (linked) packed fact of file `file`.
    pub fn unpack(&self, f: &PackedFact, file: u32) -> Option<Fact> {
        let p = |c: Code| self.place(c);
        let kind = match f.kind {
            Packed::New { event, to } => FactKind::New { event, to: p(to)? },
            Packed::Assign { to, from } => FactKind::Assign {
                to: p(to)?,
                from: p(from)?,
            },
            Packed::HandleOf { to, from } => FactKind::HandleOf {
                to: p(to)?,
                from: p(from)?,
            },
            Packed::Call { event, start, len } => FactKind::Call {
                event,
                args: self.call_args(start, len).iter().map(|&c| p(c)).collect(),
                result: p(self.call_result(start)),
            },
            Packed::Load { to, cell } => FactKind::Load {
                to: p(to)?,
                cell: CellId(cell),
            },
            Packed::Store {
                cell,
                from,
                overwrite,
            } => FactKind::Store {
                cell: CellId(cell),
                from: p(from)?,
                overwrite,
            },
            Packed::Subject { event, place } => FactKind::Subject {
                event,
                place: p(place)?,
            },
            Packed::Use { place, method } => FactKind::Use {
                place: p(place)?,
                method: (method != NO_METHOD).then_some(method),
            },
            Packed::Drop { place } => FactKind::Drop { place: p(place)? },
            Packed::Reset { place } => FactKind::Reset { place: p(place)? },
            Packed::Close { place } => FactKind::Close { place: p(place)? },
            Packed::Escape { place } => FactKind::Escape { place: p(place)? },
            Packed::Release { cell } => FactKind::Release {
                cell: CellId(cell),
                bound: None,
            },
        };
        Some(Fact {
            func: FnId(f.func),
            span: Span::new(file, f.start, f.end),
            kind,
        })
    }
}
