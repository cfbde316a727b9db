/** Shapes of the hub's image-generation API (base /api/v1/images). Dates are ISO-8601 strings. */

export type GenerationStatus = 'pending' | 'running' | 'succeeded' | 'failed' | 'canceled';

export interface ErrorInfo {
  code: string;
  message: string;
}

export interface GeneratedImage {
  id: string;
  index: number;
  status: 'succeeded' | 'failed';
  /** Short-lived signed hub URL; works in <img src> without a header. */
  url: string | null;
  /** The same with download=1 (Content-Disposition: attachment). */
  download_url: string | null;
  width: number;
  height: number;
  seed: number | null;
  actual_prompt: string | null;
  content_type: string | null;
  bytes: number | null;
  error: ErrorInfo | null;
}

export interface Generation {
  id: string;
  status: GenerationStatus;
  model: string;
  prompt: string;
  negative_prompt: string | null;
  /** "W*H" as DashScope spells it. */
  size: string;
  n: number;
  seed: number | null;
  prompt_extend: boolean;
  watermark: boolean;
  created_at: string;
  submitted_at: string | null;
  started_at: string | null;
  finished_at: string | null;
  error: ErrorInfo | null;
  cost_cny: number;
  images: GeneratedImage[];
}

export interface GenerationRequest {
  prompt: string;
  negative_prompt?: string;
  model?: string;
  size?: string;
  n?: number;
  seed?: number;
  prompt_extend?: boolean;
  watermark?: boolean;
}

/** What GET /models says about an image model's limits (`image` of a kind:"image" item). */
export interface ImageSpec {
  sizes: string[];
  default_size: string;
  max_n: number;
  max_prompt_chars: number;
  max_negative_prompt_chars: number;
}
