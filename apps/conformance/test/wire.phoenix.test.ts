// wire.scenarios.ts with the official `phoenix` client (see harness/clients.ts `clientSuite`).
import { clientSuite } from "./harness/index.js";
import { wireScenarios } from "./wire.scenarios.js";

clientSuite("phoenix", wireScenarios);
