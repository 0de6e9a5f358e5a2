//! Value-flow facts: how values move between the places of a program.
//!
//! Frontends record, without judgement, where the value of an expression goes: a binding, an
//! argument, a return, a field or a static. The analysis ([`crate::analysis::flow`]) derives
//! from them which runtimes, handles, resources and tasks each place may hold. Facts name
//! events by their index in their function's [`super::Function::events`]: the value made by a
//! `RuntimeNew`, `Create`, `HandleOf` or spawning `Run` event is the object of that event.

use super::{FnId, Span, VarId};

/// Index of a named storage cell in [`FlowFacts::cells`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellId(pub u32);

/// What a storage cell is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CellKind {
    /// A field of a struct, or an attribute of instances of a class: one cell per owning type
    /// and field name, shared by every object of that type.
    Field,
    /// A static, lazy, thread-local or module global.
    Static,
}

/// Program-wide storage that outlives a call.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Cell {
    /// Field or static.
    pub kind: CellKind,
    /// Owning type of a field (its last path segment in Rust, the class's dotted path in
    /// Python); the module path of a static.
    pub owner: String,
    /// Field or static name.
    pub name: String,
}

/// A place that holds a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Place {
    /// A tracked variable.
    Var(VarId),
    /// A temporary or an untracked local of a function, program-wide (see
    /// [`FlowFacts::temp_owner`]).
    Temp(u32),
    /// The `i`-th parameter of a function; a method's receiver is parameter 0.
    Param(FnId, u32),
    /// The value a function (or a nested body) returns.
    Ret(FnId),
    /// A field or a static.
    Cell(CellId),
}

/// One flow fact, in the function where it happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fact {
    /// The function the fact belongs to.
    pub func: FnId,
    /// Where it happens.
    pub span: Span,
    /// What happens.
    pub kind: FactKind,
}

/// The kinds of flow fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FactKind {
    /// The value made by event `event` of the fact's function goes to `to`.
    New {
        /// Index of the making event.
        event: u32,
        /// Receiving place.
        to: Place,
    },
    /// The value of `from` goes to `to`: a binding, a move, a clone, a reference, a wrapper
    /// (`Arc::new`, `Some`), an unwrap or a `?`.
    Assign {
        /// Receiving place.
        to: Place,
        /// Source place.
        from: Place,
    },
    /// `to` receives a handle to the runtime in `from` (`rt.handle()`): it refers to the runtime
    /// without owning it.
    HandleOf {
        /// Receiving place.
        to: Place,
        /// The runtime's place.
        from: Place,
    },
    /// A call (or a nested body run by `block_on` and similar): arguments go to the callees'
    /// parameters and the callees' return to `result`. `event` is the `Call` or `Run` event.
    Call {
        /// Index of the call event.
        event: u32,
        /// Argument places, receiver first for method calls.
        args: Vec<Option<Place>>,
        /// Place receiving the result.
        result: Option<Place>,
    },
    /// A field or static is read into `to`.
    Load {
        /// Receiving place.
        to: Place,
        /// The cell read.
        cell: CellId,
    },
    /// A field or static is written. `overwrite` is set when the write replaces (and drops) a
    /// previous value (`self.rt = ..`), not when it initialises the cell (a struct literal).
    Store {
        /// The cell written.
        cell: CellId,
        /// Source place.
        from: Place,
        /// Whether the old value is dropped by the write.
        overwrite: bool,
    },
    /// Event `event` (a `Run`, `HandleOf`, `RuntimeEnter` or `RuntimeClose`) acts on the value in
    /// `place` (its receiver).
    Subject {
        /// Index of the event.
        event: u32,
        /// The receiver's place.
        place: Place,
    },
    /// The value in `place` is used (a method is called on it).
    Use {
        /// The used place.
        place: Place,
        /// The method called, when the knowledge base names it a state check of some type
        /// (see [`crate::kb::Kb::state_method`]): no use of a value of such a type.
        method: Option<u16>,
    },
    /// A value moved out of `place` (`slot.take()`, `slot.replace(..)`) is dropped here: the
    /// result is thrown away or handed to `drop`.
    Drop {
        /// The place the value was moved out of.
        place: Place,
    },
    /// A value is moved out of `place` (`slot.take()`, `map.remove(k)`, `list.pop()`): from here
    /// on the place may hold nothing, whatever it held before.
    TakeOut {
        /// The place the value was moved out of.
        place: Place,
    },
    /// The value in `place` is emptied of what ties it to a runtime and stays usable (a pool
    /// that closes its connections, which the next use opens afresh: `engine.dispose()`), or
    /// the storage in `place` is emptied for the next run to fill anew (`global s; s = None`).
    Reset {
        /// The reset place.
        place: Place,
    },
    /// The value in `place` is closed: a close method of a runtime-bound resource called on a
    /// receiver whose type is not known (`session.close()`), or the value entered as a context
    /// manager (`async with session:`), which closes it when the block ends.
    Close {
        /// The closed place.
        place: Place,
    },
    /// The value in `place` is handed to code the program does not see (an argument of a
    /// library call), which may keep or close it.
    Escape {
        /// The handed place.
        place: Place,
    },
    /// A value of the type that owns field `cell` dies here (its owner's scope ends, `drop`, an
    /// overwrite): what that field holds is dropped with it.
    Release {
        /// A field of the dying value's type.
        cell: CellId,
        /// Where the dying value was bound, when a local owning it dies at its scope end
        /// (`let pool = CpuPool::new()` for the `}` that drops it).
        bound: Option<crate::model::Span>,
    },
    /// The value of `from` is made at most once for each value held in `owner` and kept in
    /// it: a lazily initialised field (`self.client.get_or_init(|| ..)`, a `LazyLock` field
    /// of a struct literal). It lives as long as that value.
    Lazy {
        /// The place holding the owning value.
        owner: Place,
        /// The lazily made value.
        from: Place,
    },
    /// The nested body `body` itself, kept as a value to be called later (a closure put in a
    /// field: `Hooks { on_tick: Box::new(|| ..) }`), goes to `to`.
    Body {
        /// The closure.
        body: FnId,
        /// Receiving place.
        to: Place,
    },
    /// Call event `event`, which names no callee, calls the function value in `callee`
    /// (`(self.on_tick)()`). The analysis resolves it ([`crate::analysis::flow::resolve_calls`]).
    CallVia {
        /// Index of the `Call` event.
        event: u32,
        /// The place holding the called value.
        callee: Place,
    },
}

/// The flow facts of a program.
#[derive(Clone, Debug, Default)]
pub struct FlowFacts {
    /// Named storage cells.
    pub cells: Vec<Cell>,
    /// Owning function of each temporary ([`Place::Temp`] indexes this list).
    pub temp_owner: Vec<FnId>,
    /// The facts, grouped by function in no particular order.
    pub facts: Vec<Fact>,
    /// Where instances are built of the types whose fields a method other than the
    /// constructor fills (a lazy accessor, a cached property): what such a field holds lives
    /// as long as the instance.
    pub built: Vec<Built>,
}

/// A place where instances of a type are built.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Built {
    /// The type, named as the owner of its field cells.
    pub owner: String,
    /// The function that builds them; `None` when it was left out of the program (it does
    /// nothing the analysis follows), so the place is unknown.
    pub func: Option<FnId>,
    /// The loop depth of the construction in that function.
    pub loop_depth: u16,
}

impl FlowFacts {
    /// The cell with the given id.
    pub fn cell(&self, id: CellId) -> &Cell {
        &self.cells[id.0 as usize]
    }
}
