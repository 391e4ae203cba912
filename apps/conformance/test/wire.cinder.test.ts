// wire.scenarios.ts with `@cinder/client` (see harness.ts `clientSuite`).
import { clientSuite } from "./harness.js";
import { wireScenarios } from "./wire.scenarios.js";

clientSuite("cinder", wireScenarios);
