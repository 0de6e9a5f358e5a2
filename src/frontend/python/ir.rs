//! The per-file result of lowering: model functions whose references to other modules are
//! still symbolic. The project linker (`link`) resolves them into one program.
//!
//! Ids inside a [`FileIr`] are local to the file (`FnId(0)` is the file's first function); the
//! linker shifts them. Spans carry file id 0 until linking.

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::name::Name;
use thin_vec::ThinVec;

use crate::model::{ArgKey, ArgVal, Entry, Function, Global, Lit, Span, Var};

/// A top-level name of a module.
#[derive(Debug, Clone)]
pub enum Def {
    /// A function (local function index).
    Fn(u32),
    /// A class (index into [`FileIr::classes`]).
    Class(u32),
    /// A module global holding a runtime-bound resource (local global index).
    Global(u32),
    /// An object of a class, built at module level (the class's dotted path).
    Instance(Box<str>),
    /// A name imported from elsewhere (dotted path).
    Alias(Box<str>),
    /// A module name bound to `functools.partial(f, ..)` of a project function `f` (dotted
    /// path) with that many positional arguments bound: a call of the name calls `f`, its
    /// arguments after the bound ones.
    Partial(Box<str>, u8),
}

/// What a class attribute holds, as far as lifecycle goes.
#[derive(Debug, Clone)]
pub enum AttrDef {
    /// A class-level attribute holding a runtime-bound resource (local global index).
    ClassGlobal(u32),
    /// An instance attribute set to a runtime-bound resource in a method.
    Created {
        /// The constructor.
        api: Box<str>,
        /// Where it is assigned.
        span: Span,
        /// Function that assigns it (local index).
        init: u32,
    },
    /// An instance attribute set from a module-level name (dotted path).
    Alias(Box<str>),
}

/// A class of the module.
#[derive(Debug, Clone, Default)]
pub struct ClassIr {
    /// Dotted path (`pkg.mod.Service`).
    pub path: String,
    /// Methods by name (local function index).
    pub methods: HashMap<Name, u32>,
    /// Base classes, as dotted paths.
    pub bases: Vec<Box<str>>,
    /// Attributes that hold runtime-bound resources.
    pub attrs: HashMap<Name, AttrDef>,
    /// Known types of attributes (`self.store = Store()`, `store: Store`), as type paths
    /// (see [`IrFn::returns`]).
    pub attr_types: HashMap<Name, Box<str>>,
    /// Attributes the class body or its methods assign (`self.x = <call or name>`): an
    /// attribute it does not assign, read on its instances, is the one a base class assigns.
    pub assigned: Box<[Name]>,
    /// Whether a method other than `__init__` keeps a value in an attribute of the instance
    /// (a lazy accessor, a `cached_property`): the linker records where instances are built.
    pub lazy: bool,
}

/// How a symbolic reference is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    /// Called (`f()`, `mod.f()`, `self.m()`).
    Call,
    /// Read (`client.get`, `async with lock`).
    Value,
    /// Closed (`await client.aclose()`).
    Close,
    /// A method called on a value of a known project type: a call edge when the path names a
    /// function, nothing otherwise.
    Method,
    /// An attribute read on a value of a known project type: a call of the getter when the
    /// path names a property.
    Attr,
    /// Passed by name to a project function: a module global is handed on to the callee's
    /// parameter (the flow follows it to where it is used), a function is used as a value.
    HandedOn,
}

/// A reference the linker resolves into events (none, one or two).
#[derive(Debug, Clone)]
pub enum Pending {
    /// A dotted path (`pkg.client.http.get`, `pkg.mod.Service.fetch`), interned in
    /// [`FileIr::paths`].
    Ref {
        /// Index of the path.
        path: u32,
        /// How it is used.
        kind: RefKind,
    },
    /// `self.attr = <runtime-bound constructor>` inside a method of a class (index into
    /// [`FileIr::attr_creates`]).
    AttrCreate(u32),
    /// A call of a parameter of an enclosing function (`fn(*args)` in a decorator's
    /// wrapper, `callback()` in a helper): the linker calls what is passed for it.
    ParamCall {
        /// Function that declares the parameter (local index).
        owner: u32,
        /// Position of the parameter.
        index: u32,
    },
    /// A call through a table of functions (a module-level container, its dotted path
    /// interned in [`FileIr::paths`]): a call of every function the table holds.
    Table {
        /// Index of the table's path.
        path: u32,
    },
    /// A call of what calls of a project function return (`every(30)(job)(..)`): the function
    /// `path` names (interned in [`FileIr::paths`]) returns a function, which returns one, and
    /// so on `depth` times; the last one is called.
    Returned {
        /// Index of the path of the function called first.
        path: u32,
        /// How many returns to follow.
        depth: u8,
        /// A decorator applied to a def: the last function runs at the def unless it makes a
        /// function of its own (a registering decorator runs there; a wrapper maker only
        /// defines its wrapper, whose calls are the decorated function's).
        decorates: bool,
    },
    /// A pytest fixture used through a test's parameter (name interned in [`FileIr::paths`]).
    Fixture {
        /// Index of the fixture name.
        name: u32,
        /// How it is used.
        kind: RefKind,
    },
}

/// An instance attribute set to a runtime-bound resource.
#[derive(Debug, Clone)]
pub struct AttrCreate {
    /// Dotted path of the class.
    pub class: Box<str>,
    /// Attribute name.
    pub attr: Box<str>,
    /// The constructor.
    pub api: Box<str>,
    /// Whether it binds at construction.
    pub binds_now: bool,
    /// The project class whose call made it, when it derives from the constructor's type.
    pub made_as: Option<Box<str>>,
}

/// A pending reference and where its events go. A file has hundreds of thousands of them
/// (32 bytes each): the span leaves out the file, and rare payloads sit in tables of the file.
#[derive(Debug, Clone)]
pub struct PendingAt {
    /// Index in the function's events before which the resolved events are inserted.
    pub at: u32,
    /// Start offset of the reference.
    pub start: u32,
    /// End offset of the reference.
    pub end: u32,
    /// Loop depth at the reference.
    pub loop_depth: u16,
    /// For calls: resolve only to callees that are coroutine functions (`Some(true)`) or only
    /// to plain functions (`Some(false)`). The arguments of a coroutine handed to a loop are
    /// evaluated by the calling code, but coroutines among them run on the loop.
    pub only_async: Option<bool>,
    /// The reference.
    pub what: Pending,
    /// Condition of the reference within its body (in [`FileIr::conds`]).
    pub when: crate::model::CondId,
}

const _: () = assert!(std::mem::size_of::<PendingAt>() <= 32);

impl PendingAt {
    /// The span of the reference in file `file`.
    pub fn span(&self, file: u32) -> Span {
        Span::new(file, self.start, self.end)
    }
}

/// What a mark does to the function a path names.
#[derive(Debug, Clone)]
pub enum MarkKind {
    /// The function is an entry point (a route registered by a call, a lifespan hook).
    Entry(Entry),
    /// A request handler registered by a call: sync handlers run repeatedly with no loop,
    /// async ones on the server loop. The text describes the framework.
    Handler(String),
    /// The function is used as a value: its callers are unknown.
    ValueRef,
}

/// A function body and its pending references.
#[derive(Debug, Clone)]
pub struct IrFn {
    /// The body, without the events of pending references.
    pub func: Function,
    /// Pending references, in source order.
    pub pending: ThinVec<PendingAt>,
    /// The type of what a call returns, as a type path: a dotted path followed by `()` for an
    /// instance of a project class (`pkg.store.Store()`), a path naming a call result or an
    /// attribute (`pkg.make()`, `pkg.Service.store`), or `?Name()` for the project class with
    /// that unique name. The linker resolves it.
    pub returns: Option<Box<str>>,
    /// Whether the function is a property getter (`@property`, `@cached_property`).
    pub property: bool,
    /// A nested function this function returns (a decorator's wrapper), local index.
    pub returns_fn: Option<u32>,
    /// Whether a function returns it (see `returns_fn`): its callers are decided at link time.
    pub returned: bool,
    /// Decorators defined in the project, outermost first: their path and whether the
    /// decorator expression is a call (a decorator factory, `@retry(3)`).
    pub decorators: ThinVec<(Box<str>, bool)>,
    /// Whether the only reason its callers are unknown is that it is public: the linker clears
    /// the flag when the project itself calls the function.
    pub public_only: bool,
    /// Arguments of project calls that are instances of project classes: the pending
    /// reference of the call, the argument's position (receiver first for methods) and its
    /// type path (in [`FileIr::paths`]). The linker types parameters from them.
    pub arg_types: ThinVec<(u32, u8, u32)>,
    /// Names of the positional parameters (`self` included; empty for positional-only ones),
    /// which keyword arguments bind to.
    pub param_names: ThinVec<Name>,
    /// Functions passed as arguments of project calls (by name, as a lambda, a bound method of
    /// `self` or through `functools.partial`): the call (a pending reference flagged
    /// `flow::PENDING`, or the index of a call event of a nested function), the argument's
    /// position (receiver first for methods) or keyword ([`KEYWORD`] set on the interned
    /// name), and the function. The linker runs it where the callee calls that parameter.
    pub handed: ThinVec<(u32, u32, HandedFn)>,
    /// Parameters whose default value the flow follows: the parameter's position and the
    /// static cell that keeps the value, made once where the `def` runs (at import for a
    /// module's functions and its classes' methods).
    pub defaults: ThinVec<(u32, crate::model::Cell)>,
}

/// Marks a handed function's argument as a keyword: the rest is the name in [`FileIr::paths`].
pub const KEYWORD: u32 = 1 << 31;

/// A function passed as an argument.
#[derive(Debug, Clone, Copy)]
pub enum HandedFn {
    /// A dotted path (in [`FileIr::paths`]) the linker resolves.
    Path(u32),
    /// A function of the file (local index): a lambda or a nested function.
    Local(u32),
    /// A parameter of a function of the file (local index, parameter position), passed on:
    /// what the function's callers hand to that parameter runs where the callee calls it.
    Param(u32, u32),
}

/// A function stored in a table of functions (see [`FileIr::fn_tables`]).
#[derive(Debug, Clone)]
pub enum StoredFn {
    /// A dotted path the linker resolves.
    Path(Box<str>),
    /// A function of the file (local index).
    Local(u32),
    /// A parameter of a function of the file (local index, position): what is passed for it
    /// (the function a registering decorator is applied to).
    Param(u32, u32),
}

/// A pytest fixture with a scope wider than one test.
#[derive(Debug, Clone)]
pub struct FixtureDef {
    /// Fixture name.
    pub name: String,
    /// Local global index.
    pub global: u32,
    /// Whether it makes something runtime-bound itself: then a test's reads of it are uses of
    /// that global. Otherwise it only types the parameters that name it.
    pub bound: bool,
}

/// Everything lowered from one file.
#[derive(Debug, Default)]
pub struct FileIr {
    /// Index in the source database.
    pub source: usize,
    /// Canonical module name.
    pub module: String,
    /// Functions (local ids).
    pub functions: Vec<IrFn>,
    /// Tracked variables (owners are local ids).
    pub vars: Vec<Var>,
    /// Globals declared in this file (init functions are local ids).
    pub globals: Vec<Global>,
    /// Top-level names.
    pub defs: HashMap<Name, Def>,
    /// Classes.
    pub classes: Vec<ClassIr>,
    /// Marks on functions named by path.
    pub marks: Vec<(Box<str>, MarkKind)>,
    /// Test clients made here that serve each request on a loop of their own (see
    /// [`crate::model::Program::request_loops`]), with the name they are bound to.
    pub request_loops: Vec<(Span, Option<Name>)>,
    /// Names entered as context managers in this file (`with client:`).
    pub entered: Vec<Name>,
    /// Wide-scope fixtures defined here.
    pub fixtures: Vec<FixtureDef>,
    /// Interned paths and names of pending references.
    pub paths: Paths,
    /// Attribute creations of pending references ([`Pending::AttrCreate`]).
    pub attr_creates: Vec<AttrCreate>,
    /// Conditions of events (tests of parameters).
    pub conds: crate::model::Conds,
    /// Calls with literal arguments: the call's span and its arguments.
    pub call_args: CallArgs,
    /// Calls of a method on the instance itself (`self.method()`), by local function and
    /// index of the pending reference: each subclass's own implementation may run there.
    pub self_calls: Vec<(u32, u32)>,
    /// Storage cells named by flow facts (instance attributes by class).
    pub cells: Vec<crate::model::Cell>,
    /// Owning function (local id) of each flow temporary.
    pub temps: Vec<u32>,
    /// Flow facts (functions, variables, temporaries, cells and events are file-local).
    pub flow: super::facts::FileFacts,
    /// Functions stored in module-level containers: the container's dotted path (as named
    /// where it is stored) and the function.
    pub fn_tables: Vec<(Box<str>, StoredFn)>,
    /// Tables of functions of this module (dotted paths) read in ways the frontend does not
    /// follow: their functions may go anywhere.
    pub table_leaks: Vec<Box<str>>,
    /// Decorators applied by a call rather than by `@` (`every(30)(job)`, `run_sync(job)`):
    /// the decorator's path, whether it is a factory, and the path of the function applied.
    pub applied_inline: Vec<(Box<str>, bool, Box<str>)>,
    /// The module's own `__getattr__` (PEP 562), which answers reads of names it does not
    /// bind.
    pub module_getattr: Option<super::module_getattr::ModuleGetattr>,
}

impl FileIr {
    /// The same result, each part copied (at its exact size) into the heap of that part (see
    /// [`crate::alloc::Part`]): a file's result stays alive until its project is linked, and
    /// the link frees its parts at different times. Names are copied too, not shared (see
    /// [`own`]): the result outlives the syntax tree.
    pub fn rehome(self) -> FileIr {
        use crate::alloc::{Part, in_part};
        let FileIr {
            source,
            module,
            functions,
            vars,
            globals,
            defs,
            classes,
            marks,
            request_loops,
            entered,
            fixtures,
            paths,
            attr_creates,
            conds,
            call_args,
            self_calls,
            cells,
            temps,
            flow,
            fn_tables,
            table_leaks,
            applied_inline,
            module_getattr,
        } = self;
        let functions = rehome_functions(functions);
        let (cells, temps) = in_part(Part::Functions, || (cells.clone(), temps.clone()));
        let flow = in_part(Part::Facts, || flow.copy());
        let call_args = in_part(Part::CallArgs, || call_args.copy());
        in_part(Part::File, || FileIr {
            source,
            module: module.clone(),
            functions,
            vars: vars.clone(),
            globals: globals.clone(),
            defs: own_keys(&defs),
            classes: classes.iter().map(ClassIr::owned).collect(),
            marks: marks.clone(),
            request_loops: request_loops
                .iter()
                .map(|(span, name)| (*span, name.as_ref().map(own)))
                .collect(),
            entered: entered.iter().map(own).collect(),
            fixtures: fixtures.clone(),
            paths: in_part(Part::Linked, || paths.clone()),
            attr_creates: attr_creates.clone(),
            conds: conds.clone(),
            call_args,
            self_calls: self_calls.clone(),
            cells,
            temps,
            flow,
            fn_tables: fn_tables.clone(),
            table_leaks: table_leaks.clone(),
            applied_inline: applied_inline.clone(),
            module_getattr: module_getattr.clone(),
        })
    }
}

/// A copy of `name` that shares no buffer with it. A long name's clone shares its buffer,
/// which may sit in the heap of the syntax tree it was read from, freed with the tree.
pub fn own(name: &Name) -> Name {
    Name::new(name.as_str())
}

/// A copy of `map` whose names share no buffer with its own (see [`own`]), with as many
/// buckets, filled in its order.
fn own_keys<V: Clone>(map: &HashMap<Name, V>) -> HashMap<Name, V> {
    let mut out = HashMap::with_capacity_and_hasher(map.capacity(), Default::default());
    for (k, v) in map {
        out.insert(own(k), v.clone());
    }
    out
}

impl ClassIr {
    /// A copy that shares no name's buffer with this class (see [`own`]).
    fn owned(&self) -> ClassIr {
        ClassIr {
            path: self.path.clone(),
            methods: own_keys(&self.methods),
            bases: self.bases.clone(),
            attrs: own_keys(&self.attrs),
            attr_types: own_keys(&self.attr_types),
            assigned: self.assigned.iter().map(own).collect(),
            lazy: self.lazy,
        }
    }
}

/// Copies a file's functions into two heaps: what the program keeps (a body's name,
/// parameters, entry and the contents of its events) into that of [`crate::alloc::Part::Functions`],
/// what the link frees as it goes (the list itself, the pending references, the lists of
/// events) into that of [`crate::alloc::Part::Linked`], so that the pages the link empties do
/// not hold a name the program still needs.
///
/// Each heap is made the default once for all the functions (three passes), not four times for
/// each of them.
fn rehome_functions(mut functions: Vec<IrFn>) -> Vec<IrFn> {
    use crate::alloc::{Part, in_part};
    // The lists of events and the bodies without them, in the heap of the caller.
    let events: Vec<Vec<crate::model::Event>> = functions
        .iter_mut()
        .map(|f| std::mem::take(&mut f.func.events))
        .collect();
    let mut funcs: Vec<Function> = Vec::with_capacity(functions.len());
    in_part(Part::Functions, || {
        funcs.extend(functions.iter().map(|f| f.func.clone()))
    });
    let mut out: Vec<IrFn> = in_part(Part::Linked, || {
        functions
            .iter()
            .zip(funcs)
            .zip(&events)
            .map(|((f, mut func), events)| {
                func.events = Vec::with_capacity(events.len());
                IrFn {
                    func,
                    pending: f.pending.clone(),
                    returns: f.returns.clone(),
                    property: f.property,
                    returns_fn: f.returns_fn,
                    returned: f.returned,
                    decorators: f.decorators.clone(),
                    public_only: f.public_only,
                    arg_types: f.arg_types.clone(),
                    param_names: f.param_names.iter().map(own).collect(),
                    handed: f.handed.clone(),
                    defaults: f.defaults.clone(),
                }
            })
            .collect()
    });
    in_part(Part::Functions, || {
        for (f, events) in out.iter_mut().zip(&events) {
            f.func.events.extend(events.iter().cloned());
        }
    });
    out
}

/// The interned strings of a file, by index: one buffer and where each string ends (a file
/// interns a hundred thousand paths and names, and keeps them until its project is linked).
#[derive(Debug, Default, Clone)]
pub struct Paths {
    /// The strings, one after the other.
    text: String,
    /// End offset of each string in `text`.
    ends: Vec<u32>,
}

impl Paths {
    /// No string.
    pub const fn new() -> Self {
        Paths {
            text: String::new(),
            ends: Vec::new(),
        }
    }

    /// Adds a string; its index is the number of strings before it.
    pub fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u32);
    }

    /// How many strings there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there is no string.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The string of index `i`.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)? as usize;
        let start = match i {
            0 => 0,
            _ => self.ends[i - 1] as usize,
        };
        self.text.get(start..end)
    }

    /// The strings, by index.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// Drops the room that growing left.
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.ends.shrink_to_fit();
    }
}

impl std::ops::Index<usize> for Paths {
    type Output = str;

    fn index(&self, i: usize) -> &str {
        self.get(i).expect("interned string index out of range")
    }
}

/// The arguments of a file's calls that pass a literal or a parameter, packed: most of them are
/// dropped at link time (only calls of functions that test a parameter keep theirs), and a
/// file has many. A call is its offsets in the file and where its arguments are; an argument
/// is two `u32`s (its key and its value); literals and keyword names sit in one table per
/// file, each once.
#[derive(Debug, Default)]
pub struct CallArgs {
    /// Per call: its start and end offsets and its arguments, `args[start..start + len]`.
    calls: Vec<[u32; 4]>,
    /// Arguments: a packed [`ArgKey`] and [`ArgVal`].
    args: Vec<(u32, u32)>,
    /// Literals and keyword names (as [`Lit::Str`]) by index.
    lits: Vec<Lit>,
    /// Index of each literal in `lits`, while the file is lowered.
    lit_ids: HashMap<Lit, u32>,
    /// Index of each string (a string literal or a keyword name) in `lits`, found by its text
    /// without building a literal, while the file is lowered.
    str_ids: HashMap<Box<str>, u32>,
}

/// The top bit of a packed key or value marks a keyword (key) or a parameter (value).
const TAG: u32 = 1 << 31;
/// A packed [`ArgKey::Unplaced`] or [`ArgVal::Other`].
const NONE: u32 = u32::MAX;

impl CallArgs {
    /// The packed key of the positional argument at `i`.
    pub fn pos_key(i: u32) -> u32 {
        i.min(TAG - 1)
    }

    /// The packed key of an argument whose position is not known ([`ArgKey::Unplaced`]).
    pub const UNPLACED: u32 = NONE;

    /// The packed value of an argument that is neither a literal nor a parameter
    /// ([`ArgVal::Other`]).
    pub const OTHER: u32 = NONE;

    /// The packed key of the keyword argument `name`.
    pub fn name_key(&mut self, name: &str) -> u32 {
        TAG | self.str_lit(name)
    }

    /// The packed value of the caller's parameter `i` passed on.
    pub fn param_val(i: u32) -> u32 {
        TAG | i.min(TAG - 2)
    }

    /// The packed value of a literal.
    pub fn lit_val(&mut self, l: Lit) -> u32 {
        self.lit(l)
    }

    /// The packed value of a string literal.
    pub fn str_val(&mut self, s: &str) -> u32 {
        self.str_lit(s)
    }

    /// Starts recording the arguments of the call at `span` ([`Self::add`] adds them).
    pub fn begin(&mut self, span: Span) {
        let start = self.args.len() as u32;
        self.calls.push([span.start, span.end, start, 0]);
    }

    /// Adds a packed argument to the call begun last.
    pub fn add(&mut self, key: u32, val: u32) {
        self.args.push((key, val));
        if let Some(call) = self.calls.last_mut() {
            call[3] += 1;
        }
    }

    /// Keeps only the calls at the offsets `keep` accepts (those that can become call events).
    pub fn retain(&mut self, keep: impl Fn(u32, u32) -> bool) {
        let mut args = Vec::new();
        self.calls.retain_mut(|c| {
            if !keep(c[0], c[1]) {
                return false;
            }
            let start = args.len() as u32;
            args.extend_from_slice(&self.args[c[2] as usize..(c[2] + c[3]) as usize]);
            c[2] = start;
            true
        });
        self.args = args;
    }

    fn lit(&mut self, l: Lit) -> u32 {
        if let Lit::Str(s) = &l {
            return self.str_lit(s);
        }
        if let Some(&id) = self.lit_ids.get(&l) {
            return id;
        }
        let id = self.lits.len() as u32;
        self.lits.push(l.clone());
        self.lit_ids.insert(l, id);
        id
    }

    fn str_lit(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.str_ids.get(s) {
            return id;
        }
        let id = self.lits.len() as u32;
        self.lits.push(Lit::Str(s.into()));
        self.str_ids.insert(s.into(), id);
        id
    }

    /// Drops what only lowering needs.
    pub fn seal(&mut self) {
        self.lit_ids = HashMap::default();
        self.str_ids = HashMap::default();
        self.calls.shrink_to_fit();
        self.args.shrink_to_fit();
        self.lits.shrink_to_fit();
    }

    /// A sealed copy, each list at its exact size.
    pub fn copy(&self) -> CallArgs {
        CallArgs {
            calls: self.calls.clone(),
            args: self.args.clone(),
            lits: self.lits.clone(),
            lit_ids: HashMap::default(),
            str_ids: HashMap::default(),
        }
    }

    /// The spans of the calls (in file 0), in the order they were recorded.
    pub fn spans(&self) -> impl Iterator<Item = Span> + '_ {
        self.calls.iter().map(|c| Span::new(0, c[0], c[1]))
    }

    /// The arguments of the `k`th call recorded.
    pub fn args(&self, k: usize) -> Vec<(ArgKey, ArgVal)> {
        let [_, _, start, len] = self.calls[k];
        self.args[start as usize..(start + len) as usize]
            .iter()
            .map(|&(key, val)| (self.key(key), self.val(val)))
            .collect()
    }

    fn key(&self, key: u32) -> ArgKey {
        match key {
            NONE => ArgKey::Unplaced,
            k if k & TAG != 0 => match &self.lits[(k & !TAG) as usize] {
                Lit::Str(n) => ArgKey::Name(n.clone()),
                _ => ArgKey::Unplaced,
            },
            k => ArgKey::Pos(k),
        }
    }

    fn val(&self, val: u32) -> ArgVal {
        match val {
            NONE => ArgVal::Other,
            v if v & TAG != 0 => ArgVal::Param(v & !TAG),
            v => ArgVal::Lit(self.lits[v as usize].clone()),
        }
    }
}
