import { DDPError } from '../errors.js';
import { isObject } from '../own.js';
import type { MethodInvocation } from './method-invocation.js';
import type { AuthContext, LoginHandler, LoginRequest, MethodHandler } from './types.js';

/** Read the argument of Meteor's `login` method into a `LoginRequest`. */
export function parseLoginRequest(argument: unknown): LoginRequest {
  if (isObject(argument)) {
    if (typeof argument['resume'] === 'string') return { kind: 'resume', token: argument['resume'] };
    const user = argument['user'];
    const password = argument['password'];
    if (isObject(user) && (typeof password === 'string' || isObject(password))) {
      const selector: { username?: string; email?: string; id?: string } = {};
      for (const key of ['username', 'email', 'id'] as const) {
        const value = user[key];
        if (typeof value === 'string') selector[key] = value;
      }
      if (typeof password === 'string') return { kind: 'password', user: selector, password };
      if (typeof password['digest'] === 'string' && password['algorithm'] === 'sha-256') {
        return { kind: 'password', user: selector, password: { digest: password['digest'], algorithm: 'sha-256' } };
      }
    }
  }
  return { kind: 'other', params: argument };
}

function authContext(invocation: MethodInvocation): AuthContext {
  return { connection: invocation.connection, userId: invocation.userId };
}

/** The `login` method: ask the hook, then log the connection in and answer like Meteor. */
export function createLoginMethod(login: LoginHandler): MethodHandler {
  return async function loginMethod(this: MethodInvocation, argument: unknown) {
    const outcome = await login(parseLoginRequest(argument), authContext(this));
    if (!isObject(outcome) || typeof outcome.userId !== 'string') {
      throw new DDPError(403, 'Login refused');
    }
    this.setUserId(outcome.userId);
    const answer: { id: string; token?: string; tokenExpires?: Date } = { id: outcome.userId };
    if (outcome.token !== undefined) answer.token = outcome.token;
    if (outcome.tokenExpires !== undefined) answer.tokenExpires = outcome.tokenExpires;
    return answer;
  } as MethodHandler;
}

/** The `logout` method: run the hook, then log the connection out. */
export function createLogoutMethod(logout: ((context: AuthContext) => void | Promise<void>) | undefined): MethodHandler {
  return async function logoutMethod(this: MethodInvocation) {
    await logout?.(authContext(this));
    this.setUserId(null);
  } as MethodHandler;
}
