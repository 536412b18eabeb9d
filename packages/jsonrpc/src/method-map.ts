import type { Params } from './messages.js';

/**
 * The constraint on typed method maps: every member of `T` is a function type. Interfaces
 * qualify without an index signature: `interface Api { add(a: number, b: number): number }`.
 */
export type MethodMap<T = Record<string, unknown>> = { [K in keyof T]: (...args: never[]) => unknown };

/** The default, untyped method map: any method, any params, an `unknown` result. */
export interface UntypedMethods {
  [method: string]: (...args: unknown[]) => unknown;
}

/**
 * The params a call of method type `F` takes: its arguments as an array, or, when it takes
 * one object, that object (named params). Untyped methods take any `Params`.
 */
export type ParamsOf<F> = F extends (...args: infer A) => unknown
  ? unknown[] extends A
    ? Params
    : A extends [infer Only extends Record<string, unknown>]
      ? A | Only
      : A
  : never;

/** The resolved result of method type `F`. */
export type ResultOf<F> = F extends (...args: never[]) => infer R ? Awaited<R> : unknown;

/** Handlers for the methods in `Local`; each may return a value or a promise. */
export type Handlers<Local> = {
  [M in keyof Local]?: Local[M] extends (...args: infer A) => infer R
    ? unknown[] extends A
      ? (...args: never[]) => unknown
      : (...args: A) => R | Promise<Awaited<R>>
    : never;
};
