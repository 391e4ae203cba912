/** The V2 JSON + binary serializer (`vsn` 2.x, phoenix.js's default): `@cinder/protocol`'s `V2` codec, as `Frame`s. */
import { V2 } from "@cinder/protocol";
import { serializerOf, type Serializer } from "./message.js";

/** The V2 JSON + binary serializer. */
export const V2Serializer: Serializer = serializerOf(V2);
