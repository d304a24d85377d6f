/**
 * Strategies on and off (trader; the strategy runner of the process that runs the trading engine
 * trades them, elsewhere 503 naming that process) and the live parity record of what they traded.
 * Switching is audited, by the strategy runner, in the same transaction as the change.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ParityList, StartStrategyBody, StrategyList, StrategyResponse, type StrategyJson } from '../../contracts/api/trading.ts';
import { TasaError } from '../../errors.ts';
import type { StrategyRunner } from '../../execution/strategy-runner.ts';
import { parityRecord } from '../../store/parity-repo.ts';
import { listStrategies, type Strategy } from '../../store/strategies-repo.ts';
import { formatUsd, parseUsd } from '../../trading/money.ts';
import type { ServerDeps } from '../deps.ts';
import { COMMON_ERRORS, ErrorBody } from '../http-errors.ts';
import { principalOf, TOKEN_SECURITY } from '../request-inputs.ts';
import { bounded, localEngine, MAX_QUANTITY_CENTS, tradedSymbol, TRADING_TAGS, TRADING_WRITE_ERRORS } from './trading-route-parts.ts';

const StrategyParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100, description: 'Strategy id' }) });

export const strategyRoutes: FastifyPluginAsyncTypebox<ServerDeps> = (app, deps) => {
  const trader = app.requireRole('trader');
  const runner = (): Promise<StrategyRunner> => localEngine(deps, deps.trading.strategies());

  app.get(
    '/api/trading/strategies',
    { schema: { tags: TRADING_TAGS, summary: 'Strategies, whether each is on and whether the engine trades it now', response: { 200: StrategyList, ...COMMON_ERRORS } } },
    async () => {
      const running = deps.trading.strategies()?.running() ?? null;
      return { strategies: (await listStrategies(deps.db)).map((s) => strategyJson(s, running)) };
    },
  );

  app.post(
    '/api/trading/strategies/:id/start',
    {
      // No body: no settings given (the stored ones are used).
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
      preHandler: trader,
      schema: {
        tags: TRADING_TAGS,
        summary: 'Switch a strategy on and trade it (trader)',
        description:
          'Creates the strategy (symbol, policyId and targetNotional all given) or starts a stored one, with any settings given replacing its own; it then trades on each final bar, audited as strategy:<id>. Kept across restarts; audited. 400 for an unknown policy or a bad setting; 404 for no such strategy and not all settings given; 503 when this process does not run the trading engine.',
        security: TOKEN_SECURITY,
        params: StrategyParams,
        body: StartStrategyBody,
        response: { 200: StrategyResponse, 404: ErrorBody, ...TRADING_WRITE_ERRORS },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const strategies = await runner();
      const strategy = await startStrategy(deps, strategies, request.params.id, request.body, principal.id);
      return { strategy: strategyJson(strategy, strategies.running()) };
    },
  );

  app.post(
    '/api/trading/strategies/:id/stop',
    {
      preHandler: trader,
      schema: {
        tags: TRADING_TAGS,
        summary: 'Switch a strategy off (trader): its working orders are cancelled, its position is kept',
        description: 'Kept across restarts; audited. 404 for no such strategy; 503 when this process does not run the trading engine.',
        security: TOKEN_SECURITY,
        params: StrategyParams,
        response: { 200: StrategyResponse, 404: ErrorBody, ...TRADING_WRITE_ERRORS },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const strategies = await runner();
      const { id } = request.params;
      await strategies.disable(id, principal.id);
      return { strategy: strategyJson(await storedStrategy(deps, id), strategies.running()) };
    },
  );

  app.get(
    '/api/trading/parity',
    {
      schema: {
        tags: TRADING_TAGS,
        summary: 'Live parity: per strategy, its paper trades compared with the backtest of each session it traded',
        description: 'The parity monitor (job `parity`, after each close) compares each strategy\'s round trips in the session with L6\'s backtest of its bars: sides and entry and exit bars must agree; the price difference is a figure. A session compared twice counts once.',
        response: { 200: ParityList, ...COMMON_ERRORS },
      },
    },
    async () => ({ strategies: await parityRecord(deps.db) }),
  );
  return Promise.resolve();
};

async function findStrategy(deps: ServerDeps, id: string): Promise<Strategy | undefined> {
  return (await listStrategies(deps.db)).find((s) => s.id === id);
}

async function storedStrategy(deps: ServerDeps, id: string): Promise<Strategy> {
  const strategy = await findStrategy(deps, id);
  if (strategy === undefined) throw new TasaError('not_found', `No strategy ${id}.`, { input: 'id', hint: 'GET /api/trading/strategies lists them.' });
  return strategy;
}

/** Saves the strategy on with the settings given (over its stored ones) and has the runner trade it. */
async function startStrategy(deps: ServerDeps, runner: StrategyRunner, id: string, body: StartStrategyBody, actor: string): Promise<Strategy> {
  const stored = await findStrategy(deps, id);
  const symbol = body.symbol === undefined ? stored?.symbol : tradedSymbol(body.symbol, deps.symbols);
  const policyId = body.policyId ?? stored?.policyId;
  const targetNotional = body.targetNotional === undefined ? stored?.targetNotional : notionalInput(body.targetNotional);
  if (symbol === undefined || policyId === undefined || targetNotional === undefined) {
    throw new TasaError('not_found', `No strategy ${id}.`, { input: 'id', hint: 'Give symbol, policyId and targetNotional to create it; GET /api/trading/strategies lists them.' });
  }
  try {
    await runner.enable({ id, symbol, policyId, targetNotional }, actor);
  } catch (err) {
    // The runner's not_found is the policy: the strategy itself is being created or replaced here.
    if (err instanceof TasaError && err.code === 'not_found') throw new TasaError('bad_argument', err.message, { input: 'policyId', ...(err.hint === undefined ? {} : { hint: err.hint }), cause: err });
    throw err;
  }
  return storedStrategy(deps, id);
}

function notionalInput(value: number | string): bigint {
  const notional = bounded(parseUsd(value, 'targetNotional'), MAX_QUANTITY_CENTS, 'targetNotional', `${formatUsd(MAX_QUANTITY_CENTS)} USD`);
  if (notional === 0n) throw new TasaError('bad_argument', 'targetNotional must be above zero.', { input: 'targetNotional' });
  return notional;
}

/** `running`: the strategies this process's engine trades, null when it runs none. */
function strategyJson(s: Strategy, running: readonly Strategy[] | null): StrategyJson {
  return { id: s.id, symbol: s.symbol, policyId: s.policyId, targetNotional: formatUsd(s.targetNotional), enabled: s.enabled, running: running === null ? null : running.some((r) => r.id === s.id) };
}
