/**
 * Published LLM serving throughput: what one instance's accelerators produce, as measured by the
 * people who published it. Only published measurements are here; a model, engine and accelerator
 * without a row gets no cost per token (the plan says why), never an interpolation.
 *
 * Sources (read 2026-12-07):
 * - **trtllm**: NVIDIA/TensorRT-LLM `docs/source/performance/perf-overview.md` at 258c754,
 *   "Throughput Measurements" ("All data ... generated using version 0.17", trtllm-bench with
 *   requests sent at once: the engine's maximum) and "Online Serving Measurements" (version
 *   0.14.0, 500 requests, BF16). The table's A100 and H100 are SXM parts with 80 GB, as p4de and p5
 *   have.
 * - **cost-meter**: pChitral/vllm-cost-meter, the code and data of arXiv 2606.11690 ("Beyond
 *   Per-Token Pricing: A Concurrency-Aware Methodology for LLM Infrastructure Cost Estimation",
 *   2026-06-10): `data/master_results.csv` at fe75cf2, vLLM 0.19.0, 512 input and 256 output
 *   tokens, Poisson arrivals, priced by its authors at $6.98 an H100-hour. Its H100 form factor is
 *   not stated, so its rows match no AWS instance; they are kept for their arithmetic, which a test
 *   recomputes.
 * - **nim-g5**: awslabs/ai-on-eks@f40875e `website/docs/ai/inference/GPUs/nvidia-nim-llama3.md`
 *   (lines 136, 194, 397-421): NVIDIA NIM's genai-perf output for Llama 3 8B Instruct on a
 *   g5.2xlarge, 10 concurrent requests; precision not stated.
 *
 * Kept out: ai-on-eks's registry entry for qwen3-coder-30b ($1.94 per 1M tokens on g6e.12xlarge at
 * 842 tokens/s): on-demand us-east-2 at $10.49/h gives about $3.46, so the figure cannot be
 * reproduced, and it states no precision, lengths or utilization.
 */
import { AcceleratorModel } from "./instances";
import { ModelDtype } from "./modelFit";

/** The serving engines a row can be measured on. */
export type ServingEngine = "vllm" | "tensorrt-llm" | "nim";

export interface ThroughputRow {
  id: string;
  /** The model as the source names it. */
  model: string;
  /** Its parameter class, billions. */
  parametersBillions: number;
  dtype: ModelDtype;
  engine: ServingEngine;
  engineVersion: string;
  /** The accelerator an AWS instance has that the row was measured on, or none (no match). */
  accelerator?: AcceleratorModel;
  /** The hardware as the source names it. */
  hardware: string;
  /** Accelerators, and the tensor parallelism across them. */
  tensorParallel: number;
  /** The load: `max` (everything at once), `N req/s`, `N concurrent`. */
  load: string;
  inputTokens: number;
  outputTokens: number;
  /** Output tokens a second, all requests together. */
  outputTokensPerSecond: number;
  /** What the source calls the figure, where that is less than "output tokens per second". */
  metric: string;
  /** Mean time to first token and inter-token latency, ms, where published. */
  ttftMs?: number;
  itlMs?: number;
  /** The source's own cost of the row, where it publishes one: what a test recomputes. */
  publishedCost?: { usdPerAcceleratorHour: number; usdPerMillionOutputTokens: number };
  source: string;
  /** When the source published it, or that it does not say. */
  date: string;
}

const TRTLLM =
  "NVIDIA/TensorRT-LLM@258c754 docs/source/performance/perf-overview.md, Throughput Measurements";
const TRTLLM_ONLINE =
  "NVIDIA/TensorRT-LLM@258c754 docs/source/performance/perf-overview.md, Online Serving Measurements";
const COST_METER = "pChitral/vllm-cost-meter@fe75cf2 data/master_results.csv (arXiv 2606.11690)";

export const THROUGHPUT_ROWS: readonly ThroughputRow[] = [
  {
    id: "trtllm-0.17-llama3.1-8b-fp8-1xh100",
    model: "Llama 3.1 8B",
    parametersBillions: 8,
    dtype: "fp8",
    engine: "tensorrt-llm",
    engineVersion: "0.17",
    accelerator: "H100",
    hardware: "1 x H100 80GB HBM3",
    tensorParallel: 1,
    load: "max",
    inputTokens: 1000,
    outputTokens: 1000,
    outputTokensPerSecond: 15244.78,
    metric:
      "token throughput (tokens/s); the 0.17 table does not say output only, its successor names the same measurement Total Output Throughput",
    source: TRTLLM,
    date: "not stated (TensorRT-LLM 0.17 data, read at 258c754)",
  },
  {
    id: "trtllm-0.17-llama3.1-8b-fp8-1xl40s",
    model: "Llama 3.1 8B",
    parametersBillions: 8,
    dtype: "fp8",
    engine: "tensorrt-llm",
    engineVersion: "0.17",
    accelerator: "L40S",
    hardware: "1 x L40S",
    tensorParallel: 1,
    load: "max",
    inputTokens: 1000,
    outputTokens: 1000,
    outputTokensPerSecond: 4054.71,
    metric:
      "token throughput (tokens/s); the 0.17 table does not say output only, its successor names the same measurement Total Output Throughput",
    source: TRTLLM,
    date: "not stated (TensorRT-LLM 0.17 data, read at 258c754)",
  },
  {
    id: "trtllm-0.17-llama3.1-8b-fp16-1xa100",
    model: "Llama 3.1 8B",
    parametersBillions: 8,
    dtype: "fp16",
    engine: "tensorrt-llm",
    engineVersion: "0.17",
    accelerator: "A100-80GB",
    hardware: "1 x A100-SXM4-80GB",
    tensorParallel: 1,
    load: "max",
    inputTokens: 1000,
    outputTokens: 1000,
    outputTokensPerSecond: 3786.83,
    metric:
      "token throughput (tokens/s); the 0.17 table does not say output only, its successor names the same measurement Total Output Throughput",
    source: TRTLLM,
    date: "not stated (TensorRT-LLM 0.17 data, read at 258c754)",
  },
  {
    id: "trtllm-0.17-llama3.1-70b-fp8-2xh100",
    model: "Llama 3.1 70B",
    parametersBillions: 70,
    dtype: "fp8",
    engine: "tensorrt-llm",
    engineVersion: "0.17",
    accelerator: "H100",
    hardware: "2 x H100 80GB HBM3",
    tensorParallel: 2,
    load: "max",
    inputTokens: 1000,
    outputTokens: 1000,
    outputTokensPerSecond: 4390.53,
    metric:
      "token throughput (tokens/s); the 0.17 table does not say output only, its successor names the same measurement Total Output Throughput",
    source: TRTLLM,
    date: "not stated (TensorRT-LLM 0.17 data, read at 258c754)",
  },
  {
    id: "trtllm-0.17-llama3.1-70b-fp8-4xl40s",
    model: "Llama 3.1 70B",
    parametersBillions: 70,
    dtype: "fp8",
    engine: "tensorrt-llm",
    engineVersion: "0.17",
    accelerator: "L40S",
    hardware: "4 x L40S",
    tensorParallel: 4,
    load: "max",
    inputTokens: 1000,
    outputTokens: 1000,
    outputTokensPerSecond: 1209.25,
    metric:
      "token throughput (tokens/s); the 0.17 table does not say output only, its successor names the same measurement Total Output Throughput",
    source: TRTLLM,
    date: "not stated (TensorRT-LLM 0.17 data, read at 258c754)",
  },
  {
    id: "trtllm-0.17-llama3.1-70b-fp16-4xa100",
    model: "Llama 3.1 70B",
    parametersBillions: 70,
    dtype: "fp16",
    engine: "tensorrt-llm",
    engineVersion: "0.17",
    accelerator: "A100-80GB",
    hardware: "4 x A100-SXM4-80GB",
    tensorParallel: 4,
    load: "max",
    inputTokens: 1000,
    outputTokens: 1000,
    outputTokensPerSecond: 1921.77,
    metric:
      "token throughput (tokens/s); the 0.17 table does not say output only, its successor names the same measurement Total Output Throughput",
    source: TRTLLM,
    date: "not stated (TensorRT-LLM 0.17 data, read at 258c754)",
  },
  {
    id: "trtllm-0.14-llama3.1-8b-bf16-1xh100-16qps",
    model: "Llama 3.1 8B",
    parametersBillions: 8,
    dtype: "bf16",
    engine: "tensorrt-llm",
    engineVersion: "0.14.0",
    accelerator: "H100",
    hardware: "1 x H100 80GB HBM3",
    tensorParallel: 1,
    load: "16 req/s",
    inputTokens: 467,
    outputTokens: 256,
    outputTokensPerSecond: 3765,
    metric: "output tokens/s (the table also gives total tokens/s)",
    ttftMs: 30,
    itlMs: 11,
    source: TRTLLM_ONLINE,
    date: "not stated (TensorRT-LLM 0.14.0 data, read at 258c754)",
  },
  {
    id: "trtllm-0.14-llama3.1-70b-bf16-4xh100-16qps",
    model: "Llama 3.1 70B",
    parametersBillions: 70,
    dtype: "bf16",
    engine: "tensorrt-llm",
    engineVersion: "0.14.0",
    accelerator: "H100",
    hardware: "4 x H100 80GB HBM3",
    tensorParallel: 4,
    load: "16 req/s",
    inputTokens: 467,
    outputTokens: 256,
    outputTokensPerSecond: 3164,
    metric: "output tokens/s (the table also gives total tokens/s)",
    ttftMs: 175,
    itlMs: 66,
    source: TRTLLM_ONLINE,
    date: "not stated (TensorRT-LLM 0.14.0 data, read at 258c754)",
  },
  {
    id: "vllm-0.19-llama3.1-8b-fp16-h100-10rps",
    model: "Llama 3.1 8B Instruct",
    parametersBillions: 8,
    dtype: "fp16",
    engine: "vllm",
    engineVersion: "0.19.0",
    hardware: "1 x H100 80GB (form factor not stated)",
    tensorParallel: 1,
    load: "10 req/s",
    inputTokens: 512,
    outputTokens: 256,
    outputTokensPerSecond: 2464.45,
    metric: "output tokens/s",
    ttftMs: 52.8,
    publishedCost: { usdPerAcceleratorHour: 6.98, usdPerMillionOutputTokens: 0.787 },
    source: COST_METER,
    date: "2026-06-10",
  },
  {
    id: "vllm-0.19-llama3.1-8b-fp16-h100-200rps",
    model: "Llama 3.1 8B Instruct",
    parametersBillions: 8,
    dtype: "fp16",
    engine: "vllm",
    engineVersion: "0.19.0",
    hardware: "1 x H100 80GB (form factor not stated)",
    tensorParallel: 1,
    load: "200 req/s",
    inputTokens: 512,
    outputTokens: 256,
    outputTokensPerSecond: 6237.59,
    metric: "output tokens/s",
    ttftMs: 3775.7,
    publishedCost: { usdPerAcceleratorHour: 6.98, usdPerMillionOutputTokens: 0.3108 },
    source: COST_METER,
    date: "2026-06-10",
  },
  {
    id: "vllm-0.19-llama3.1-8b-fp8-h100-1rps",
    model: "Llama 3.1 8B",
    parametersBillions: 8,
    dtype: "fp8",
    engine: "vllm",
    engineVersion: "0.19.0",
    hardware: "1 x H100 80GB (form factor not stated)",
    tensorParallel: 1,
    load: "1 req/s",
    inputTokens: 512,
    outputTokens: 256,
    outputTokensPerSecond: 255.38,
    metric: "output tokens/s",
    ttftMs: 29.27,
    publishedCost: { usdPerAcceleratorHour: 6.98, usdPerMillionOutputTokens: 7.592 },
    source: COST_METER,
    date: "2026-06-10",
  },
  {
    id: "nim-llama3-8b-1xa10g-10concurrent",
    model: "Llama 3 8B Instruct",
    parametersBillions: 8,
    dtype: "bf16",
    engine: "nim",
    engineVersion: "NIM (profile not stated)",
    accelerator: "A10G",
    hardware: "g5.2xlarge, 1 x A10G (precision not stated; bf16 assumed)",
    tensorParallel: 1,
    load: "10 concurrent",
    inputTokens: 200,
    outputTokens: 100,
    outputTokensPerSecond: 284.64,
    metric: "output token throughput (tokens/s), genai-perf",
    source:
      "awslabs/ai-on-eks@f40875e website/docs/ai/inference/GPUs/nvidia-nim-llama3.md (genai-perf output)",
    date: "2024-07-11",
  },
];

/** What a target runs, for finding its row. */
export interface ThroughputQuery {
  parametersBillions: number;
  dtype: ModelDtype;
  engine: ServingEngine;
  accelerator: AcceleratorModel;
  tensorParallel: number;
}

/**
 * The published row for a target: same parameter class, dtype, engine, accelerator and tensor
 * parallelism. Of several, the lowest throughput, so the cost per token errs high.
 */
export function throughputRowFor(q: ThroughputQuery): ThroughputRow | undefined {
  return THROUGHPUT_ROWS.filter(
    (r) =>
      r.parametersBillions === q.parametersBillions &&
      r.dtype === q.dtype &&
      r.engine === q.engine &&
      r.accelerator === q.accelerator &&
      r.tensorParallel === q.tensorParallel,
  ).sort((a, b) => a.outputTokensPerSecond - b.outputTokensPerSecond)[0];
}

/** Dollars per million output tokens at an hourly price, a throughput and a utilization. */
export function usdPerMillionTokens(
  usdPerHour: number,
  outputTokensPerSecond: number,
  utilization: number,
): number {
  return (usdPerHour / (outputTokensPerSecond * 3600 * utilization)) * 1e6;
}
