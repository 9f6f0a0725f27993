/**
 * Every field of T, the optional ones too (each may hold undefined): the type of what a record's
 * constructor returns, so that the compiler names a field the constructor left out. The load
 * manager's records are made with all their fields, in one order, for V8 (see runtime.ts).
 */
export type AllFields<T> = { [K in keyof Required<T>]: T[K] };
