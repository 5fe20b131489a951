/**
 * Helpers for the web component tests (not part of the app): a stubbed `fetch` answering the
 * API routes a component calls through api/http.ts, and a render inside antd's App and
 * ConfigProvider as the shell wraps every page.
 */
import type { ReactElement } from 'react';
import { App as AntApp, ConfigProvider } from 'antd';
import zhCN from 'antd/locale/zh_CN';
import { render, type RenderResult } from '@testing-library/react';
import { vi } from 'vitest';

/** One request the component made: method, path with query, and the parsed JSON body. */
export interface ApiCall {
  method: string;
  path: string;
  body: unknown;
}

/** An answer: a JSON body (status 200), or a function of the call returning one, or a status and body. */
export type ApiAnswer = unknown | ((call: ApiCall) => unknown) | { status: number; body: unknown };

const isStatus = (a: unknown): a is { status: number; body: unknown } =>
  !!a && typeof a === 'object' && Object.keys(a).length === 2 && 'status' in a && 'body' in a;

/**
 * Replaces the global fetch. Routes are 'METHOD /path' (the query is ignored unless the route
 * has one); the most specific route that matches wins. Unknown routes answer 404 and are
 * listed in `unmatched`, so a test can assert the component asked only what it was given.
 */
export function stubApi(routes: Record<string, ApiAnswer>) {
  const calls: ApiCall[] = [];
  const unmatched: string[] = [];
  const entries = Object.entries(routes)
    .map(([key, answer]) => {
      const [method, route] = key.includes(' ') ? (key.split(' ', 2) as [string, string]) : ['GET', key];
      return { method: method.toUpperCase(), route, answer };
    })
    .sort((a, b) => b.route.length - a.route.length);
  const fetchStub = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const path = typeof input === 'string' ? input : input instanceof URL ? `${input.pathname}${input.search}` : input.url;
    const method = (init.method ?? 'GET').toUpperCase();
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    const call = { method, path, body };
    calls.push(call);
    const bare = path.split('?')[0];
    const hit = entries.find((e) => e.method === method && (e.route.includes('?') ? e.route === path : e.route === bare));
    if (!hit) {
      unmatched.push(`${method} ${path}`);
      return new Response(JSON.stringify({ error: `no stub for ${method} ${path}` }), { status: 404 });
    }
    const answer = typeof hit.answer === 'function' ? (hit.answer as (c: ApiCall) => unknown)(call) : hit.answer;
    const { status, body: payload } = isStatus(answer) ? answer : { status: 200, body: answer };
    return new Response(payload === undefined ? '' : JSON.stringify(payload), {
      status,
      headers: { 'content-type': 'application/json' },
    });
  });
  vi.stubGlobal('fetch', fetchStub);
  return {
    calls,
    unmatched,
    /** The calls to one route ('METHOD /path', query ignored). */
    callsTo(key: string): ApiCall[] {
      const [method, route] = key.split(' ', 2) as [string, string];
      return calls.filter((c) => c.method === method && c.path.split('?')[0] === route);
    },
  };
}

/** Renders a page as the shell does: antd's App (message, modal) and the Chinese locale. */
export function renderPage(ui: ReactElement): RenderResult {
  return render(
    <ConfigProvider locale={zhCN}>
      <AntApp>{ui}</AntApp>
    </ConfigProvider>,
  );
}
