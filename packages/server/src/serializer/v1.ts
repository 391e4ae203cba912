/** The V1 JSON serializer (`vsn` 1.x): `@cinder/protocol`'s `V1` codec, as `Frame`s. */
import { V1 } from "@cinder/protocol";
import { serializerOf, type Serializer } from "./message.js";

/** The V1 JSON serializer. */
export const V1Serializer: Serializer = serializerOf(V1);
