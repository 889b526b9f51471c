# Every target is documented by its '##' comment; `make help` prints them.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

export CHECKPOINT_DISABLE := 1
export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED := true
export NODE_NO_WARNINGS := 1

ENV ?= dev
export ENV
TSX := node --import tsx
# Tooling (build, synth, Terraform checks) runs on the host's Node; the test suites load the functions
# in-process, so they run on the Lambda runtime's Node.js, pinned by the `node` dev dependency
# (sandbox/lambda/node.ts). npx would find it first in node_modules/.bin anyway; this says so.
ON_LAMBDA_NODE := PATH="$(CURDIR)/node_modules/node/bin:$$PATH"
INSTALL_STAMP := node_modules/.install-stamp

.PHONY: help install build synth validate plan-offline typecheck browser test test-unit reliability reliability-report demo sandbox example bench bench-smoke bench-profile \
        plan deploy destroy outputs bootstrap iam-policies plan-summary unlock resend-welcome docs clean

help: ## List every target
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "} {printf "  %-20s %s\n", $$1, $$2}'

$(INSTALL_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(INSTALL_STAMP) ## Install dependencies (npm ci) when package-lock.json changed

build: $(INSTALL_STAMP) ## Bundle every function with esbuild into reproducible dist/<name>.zip
	$(TSX) scripts/build.ts

synth: build ## Build, then synthesize the Terraform JSON into cdktf.out/
	$(TSX) main.ts
	@$(TSX) scripts/where.ts

validate: synth ## terraform init (provider mirror when found) and terraform validate
	$(TSX) scripts/terraform.ts validate

plan-offline: synth ## terraform plan with placeholder credentials; create-only check; writes the plan JSON
	$(TSX) scripts/terraform.ts plan-offline

typecheck: $(INSTALL_STAMP) ## Type-check every TypeScript file
	npx tsc -p tsconfig.json
	npx tsc -p tsconfig.web.json

browser: $(INSTALL_STAMP) ## Make sure the browser test has Chromium: installs Debian's chromium package when missing (as root or with passwordless sudo)
	$(TSX) scripts/chromium.ts

test: $(INSTALL_STAMP) ## Run every test: types, build, synth, terraform validate and offline plan, unit, sandbox end-to-end, browser, reliability, bench smoke
	$(MAKE) browser
	$(MAKE) typecheck
	$(MAKE) synth
	$(TSX) scripts/terraform.ts validate
	$(TSX) scripts/terraform.ts plan-offline
	$(ON_LAMBDA_NODE) npx c8 mocha

test-unit: build browser ## Run the mocha suites only (the offline-plan tests expect a prior make plan-offline)
	$(ON_LAMBDA_NODE) npx mocha

reliability: plan-offline ## Run the reliability and security suite alone, then render docs/reliability.md from its figures
	$(ON_LAMBDA_NODE) npx mocha --no-config --node-option import=tsx --extension ts --timeout 20000 'tests/reliability/**/*.test.ts'
	$(TSX) scripts/reliability-report.ts

reliability-report: $(INSTALL_STAMP) ## Render docs/reliability.md from the last run's .build/reliability.json
	$(TSX) scripts/reliability-report.ts

demo: synth ## Build and synthesize (printing where the Terraform JSON and zips are), then run the whole journey offline in the sandbox
	$(TSX) sandbox/demo.ts

sandbox: build ## Start the local sandbox on fixed ports and keep it running, with its console on http://127.0.0.1:9005/ (Ctrl-C stops it)
	$(TSX) sandbox/serve.ts

example: $(INSTALL_STAMP) ## Serve the example web app (examples/web, Amplify v6 defaults) on http://127.0.0.1:3000/ against a running make sandbox
	$(TSX) examples/web/serve.ts

bench: build ## Measure cold starts (plain HTTP and over TLS), warm latency, sandbox latency, build and synth; writes bench/results.json
	$(TSX) bench/run.ts

bench-smoke: build ## One quick round of the benchmark, to keep it working
	$(TSX) bench/run.ts --smoke

FN ?= pre-authentication
bench-profile: $(INSTALL_STAMP) ## Where one function's cold start goes (FN=<function>): --cpu-prof of load and first invocation, ours and naive, by package
	$(TSX) bench/profile.ts $(FN)

plan: synth ## terraform plan against real AWS for ENV (needs credentials and, for shared state, TF_STATE_BUCKET)
	$(TSX) scripts/deploy.ts plan

deploy: synth ## Show the plan for ENV and apply it after confirmation (AUTO_APPROVE=1 skips the prompt)
	$(TSX) scripts/deploy.ts deploy

destroy: synth ## Name what ENV holds and destroy it after confirmation; refuses protected environments
	$(TSX) scripts/deploy.ts destroy

outputs: $(INSTALL_STAMP) ## Print the stack outputs of ENV
	$(TSX) scripts/deploy.ts outputs

bootstrap: $(INSTALL_STAMP) ## One-time: create the versioned, encrypted S3 state bucket (needs credentials)
	$(TSX) scripts/bootstrap.ts

iam-policies: $(INSTALL_STAMP) ## Write the deploy and plan role policies, filled in for the configured account, to cdktf.out/iam/
	$(TSX) scripts/bootstrap.ts policies

plan-summary: plan-offline ## Print the pull-request plan summary of the offline plan
	$(TSX) scripts/plan-summary.ts cdktf.out/plan.json

unlock: $(INSTALL_STAMP) ## Clear a user's sign-in lockout: make unlock USERNAME=frodo@gmail.com
	$(TSX) scripts/unlock-user.ts "$(USERNAME)"

resend-welcome: $(INSTALL_STAMP) ## Re-send the welcome emails still PENDING after the failure queue filled: make resend-welcome [OLDER_THAN=15m] [DRY_RUN=1]
	$(TSX) scripts/resend-welcome.ts $(if $(OLDER_THAN),--older-than "$(OLDER_THAN)") $(if $(filter 1 true yes,$(DRY_RUN)),--dry-run)

docs: $(INSTALL_STAMP) ## Regenerate docs/configuration.md from the configuration schema
	$(TSX) infra/config-doc.ts

clean: ## Remove build output, synth output and local state
	rm -rf dist cdktf.out .build .sandbox coverage
