// wire.scenarios.ts with `@cinder/client` (see harness/clients.ts `clientSuite`).
import { clientSuite } from "./harness/index.js";
import { wireScenarios } from "./wire.scenarios.js";

clientSuite("cinder", wireScenarios);
