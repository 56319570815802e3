import type { Usage } from './inference-request.js';

export type PriceTable = Record<string, { input_per_million: number; output_per_million: number }>;

/** USD for one answer's usage by the configured price of its model (0 when the model has no price). */
export function spendUsd(prices: PriceTable, model: string, usage: Usage | undefined): number {
  const price = prices[model];
  if (!price || !usage) return 0;
  return ((usage.prompt_tokens ?? 0) * price.input_per_million + (usage.completion_tokens ?? 0) * price.output_per_million) / 1e6;
}
