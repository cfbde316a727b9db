/** Shapes of the hub's image-generation API (base /api/v1/images), from docs/openapi.yaml. */
import type { Schemas } from '../../app/apiTypes';

export type Generation = Schemas['ImageGeneration'];
export type GenerationStatus = Generation['status'];
export type ErrorInfo = NonNullable<Generation['error']>;
/** `url` is a short-lived signed hub URL that works in <img src>; `download_url` the same as an attachment. */
export type GeneratedImage = Schemas['GeneratedImage'];
export type GenerationRequest = Schemas['ImageRequest'];
/** What GET /models says about an image model's limits (`image` of a kind:"image" item). */
export type ImageSpec = Schemas['ImageSpec'];
