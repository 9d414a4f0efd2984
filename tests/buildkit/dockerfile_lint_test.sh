# Ported from BuildKit v0.24.0 frontend/dockerfile/dockerfile_lint_test.go (see lib.sh): each
# checkLinterWarnings call is check_lint, which compares the warnings field by field. Sourced by run.sh.

testDefinitionDescription() {
  dockerfile <<'D'
# check=experimental=InvalidDefinitionDescription
# foo this is the foo
ARG foo=bar

# base this is the base image
FROM scratch AS base

# version this is the version number
ARG version=latest

# baz this is the baz
ARG foo=baz bar=qux baz=quux
#
ARG bit=bat

# comment for something other than ARG or FROM
COPY Dockerfile .

D
  check_lint <<'W'

W
  dockerfile <<'D'
# check=experimental=InvalidDefinitionDescription
# bar this is the bar
ARG foo=bar
# BasE this is the BasE image
FROM scratch AS base
# definitely a bad comment
ARG version=latest
# definitely a bad comment
ARG foo=baz bar=qux baz=quux

D
  check_lint <<'W'
InvalidDefinitionDescription|Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.|https://docs.docker.com/go/dockerfile/rule/invalid-definition-description/|Comment for ARG should follow the format: `# foo <description>`|3
InvalidDefinitionDescription|Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.|https://docs.docker.com/go/dockerfile/rule/invalid-definition-description/|Comment for FROM should follow the format: `# base <description>`|5
InvalidDefinitionDescription|Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.|https://docs.docker.com/go/dockerfile/rule/invalid-definition-description/|Comment for ARG should follow the format: `# version <description>`|7
InvalidDefinitionDescription|Comment for build stage or argument should follow the format: `# <arg/stage name> <description>`. If this is not intended to be a description comment, add an empty line or comment between the instruction and the comment.|https://docs.docker.com/go/dockerfile/rule/invalid-definition-description/|Comment for ARG should follow the format: `# <arg_key> <description>`|9
W
}

testSecretsUsedInArgOrEnv() {
  dockerfile <<'D'

FROM scratch
ARG SECRET_PASSPHRASE
ENV SUPER_Secret=foo
ENV password=bar secret=baz
ARG super_duper_secret_token=foo auth=bar
ENV apikey=bar sunflower=foo
ENV git_key=
ENV PUBLIC_KEY=
ARG public_token

D
  check_lint <<'W'
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ARG "SECRET_PASSPHRASE")|3
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ENV "SUPER_Secret")|4
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ENV "password")|5
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ENV "secret")|5
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ARG "auth")|6
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ARG "super_duper_secret_token")|6
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ENV "apikey")|7
SecretsUsedInArgOrEnv|Sensitive data should not be used in the ARG or ENV commands|https://docs.docker.com/go/dockerfile/rule/secrets-used-in-arg-or-env/|Do not use ARG or ENV instructions for sensitive data (ENV "git_key")|8
W
}

testStageName() {
  dockerfile <<'D'

# warning: stage name should be lowercase
#
FROM scratch AS BadStageName

# warning: 'as' should match 'FROM' cmd casing.
#
FROM scratch as base2

FROM scratch AS base3

D
  check_lint <<'W'
StageNameCasing|Stage names should be lowercase|https://docs.docker.com/go/dockerfile/rule/stage-name-casing/|Stage name 'BadStageName' should be lowercase|4
FromAsCasing|The 'as' keyword should match the case of the 'from' keyword|https://docs.docker.com/go/dockerfile/rule/from-as-casing/|'as' and 'FROM' keywords' casing do not match|8
W
  dockerfile <<'D'

# warning: 'AS' should match 'from' cmd casing.
#
from scratch AS base

from scratch as base2

D
  check_lint <<'W'
FromAsCasing|The 'as' keyword should match the case of the 'from' keyword|https://docs.docker.com/go/dockerfile/rule/from-as-casing/|'AS' and 'from' keywords' casing do not match|4
W
}

testNoEmptyContinuation() {
  dockerfile <<'D'

FROM scratch
# warning: empty continuation line
COPY Dockerfile \

.
COPY Dockerfile \
.

D
  check_lint <<'W'
NoEmptyContinuation|Empty continuation lines will become errors in a future release|https://docs.docker.com/go/dockerfile/rule/no-empty-continuation/|Empty continuation line|6
W
}

testDuplicateStageName() {
  dockerfile <<'D'

FROM scratch AS b
FROM scratch AS b

D
  check_lint <<'W'
DuplicateStageName|Stage names should be unique|https://docs.docker.com/go/dockerfile/rule/duplicate-stage-name/|Duplicate stage name "b", stage names should be unique|3
W
  dockerfile <<'D'

FROM scratch AS b1
FROM scratch AS b2

D
  check_lint <<'W'

W
}

testReservedStageName() {
  dockerfile <<'D'

FROM scratch AS scratch
FROM scratch AS context

D
  check_lint <<'W'
ReservedStageName|Reserved words should not be used as stage names|https://docs.docker.com/go/dockerfile/rule/reserved-stage-name/|Stage name should not use the same name as reserved stage "scratch"|2
ReservedStageName|Reserved words should not be used as stage names|https://docs.docker.com/go/dockerfile/rule/reserved-stage-name/|Stage name should not use the same name as reserved stage "context"|3
W
  dockerfile <<'D'

FROM scratch
FROM scratch AS a

D
  check_lint <<'W'

W
}

testJSONArgsRecommended() {
  dockerfile <<'D'

FROM scratch
CMD mycommand

D
  check_lint <<'W'
JSONArgsRecommended|JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals|https://docs.docker.com/go/dockerfile/rule/json-args-recommended/|JSON arguments recommended for CMD to prevent unintended behavior related to OS signals|3
W
  dockerfile <<'D'

FROM scratch
ENTRYPOINT mycommand

D
  check_lint <<'W'
JSONArgsRecommended|JSON arguments recommended for ENTRYPOINT/CMD to prevent unintended behavior related to OS signals|https://docs.docker.com/go/dockerfile/rule/json-args-recommended/|JSON arguments recommended for ENTRYPOINT to prevent unintended behavior related to OS signals|3
W
  dockerfile <<'D'

FROM scratch
SHELL ["/usr/bin/customshell"]
CMD mycommand

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM scratch
SHELL ["/usr/bin/customshell"]
ENTRYPOINT mycommand

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM scratch AS base
SHELL ["/usr/bin/customshell"]

FROM base
CMD mycommand

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM scratch AS base
SHELL ["/usr/bin/customshell"]

FROM base
ENTRYPOINT mycommand

D
  check_lint <<'W'

W
}

testMaintainerDeprecated() {
  dockerfile <<'D'

FROM scratch
MAINTAINER me@example.org

D
  check_lint <<'W'
MaintainerDeprecated|The MAINTAINER instruction is deprecated, use a label instead to define an image author|https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/|Maintainer instruction is deprecated in favor of using label|3
W
  dockerfile <<'D'

FROM scratch
LABEL org.opencontainers.image.authors="me@example.org"

D
  check_lint <<'W'

W
}

testWorkdirRelativePath() {
  dockerfile <<'D'

FROM scratch
WORKDIR app/

D
  check_lint <<'W'
WorkdirRelativePath|Relative workdir without an absolute workdir declared within the build can have unexpected results if the base image changes|https://docs.docker.com/go/dockerfile/rule/workdir-relative-path/|Relative workdir "app/" can have unexpected results if the base image changes|3
W
  dockerfile <<'D'

FROM scratch AS a
WORKDIR /app

FROM a AS b
WORKDIR subdir/

D
  check_lint <<'W'

W
}

testRedundantTargetPlatform() {
  dockerfile <<'D'

FROM --platform=$TARGETPLATFORM scratch

D
  check_lint <<'W'
RedundantTargetPlatform|Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior|https://docs.docker.com/go/dockerfile/rule/redundant-target-platform/|Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior|2
W
  dockerfile <<'D'

FROM --platform=${TARGETPLATFORM} scratch

D
  check_lint <<'W'
RedundantTargetPlatform|Setting platform to predefined $TARGETPLATFORM in FROM is redundant as this is the default behavior|https://docs.docker.com/go/dockerfile/rule/redundant-target-platform/|Setting platform to predefined ${TARGETPLATFORM} in FROM is redundant as this is the default behavior|2
W
}

testFromPlatformFlagConstDisallowed() {
  dockerfile <<'D'

FROM --platform=linux/amd64 scratch

D
  check_lint <<'W'
FromPlatformFlagConstDisallowed|FROM --platform flag should not use a constant value|https://docs.docker.com/go/dockerfile/rule/from-platform-flag-const-disallowed/|FROM --platform flag should not use constant value "linux/amd64"|2
W
  dockerfile <<'D'

FROM --platform=linux/amd64 scratch AS my_amd64_stage

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM --platform=linux/amd64 scratch AS linux

D
  check_lint <<'W'

W
}

testExposeProtoCasing() {
  dockerfile <<'D'

FROM scratch
EXPOSE 80/TcP 8080/TCP 8080/udp

D
  check_lint <<'W'
ExposeProtoCasing|Protocol in EXPOSE instruction should be lowercase|https://docs.docker.com/go/dockerfile/rule/expose-proto-casing/|Defined protocol '80/TcP' in EXPOSE instruction should be lowercase|3
ExposeProtoCasing|Protocol in EXPOSE instruction should be lowercase|https://docs.docker.com/go/dockerfile/rule/expose-proto-casing/|Defined protocol '8080/TCP' in EXPOSE instruction should be lowercase|3
W
}

testExposeInvalidFormat() {
  dockerfile <<'D'

FROM scratch
EXPOSE 127.0.0.1:80:80 [::1]:8080:8080 5000:5000 8000

D
  check_lint <<'W'
ExposeInvalidFormat|IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release|https://docs.docker.com/go/dockerfile/rule/expose-invalid-format/|EXPOSE instruction should not define an IP address or host-port mapping, found '127.0.0.1:80:80'|3
ExposeInvalidFormat|IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release|https://docs.docker.com/go/dockerfile/rule/expose-invalid-format/|EXPOSE instruction should not define an IP address or host-port mapping, found '[::1]:8080:8080'|3
ExposeInvalidFormat|IP address and host-port mapping should not be used in EXPOSE instruction. This will become an error in a future release|https://docs.docker.com/go/dockerfile/rule/expose-invalid-format/|EXPOSE instruction should not define an IP address or host-port mapping, found '5000:5000'|3
W
}

# StreamBuildErrRegexp is BuildKit's "failed to compute cache key: ... \"/Dockerfile\": not found"; kiln says the
# part a person reads, "\"/Dockerfile\": not found".
testCopyIgnoredFiles() {
  dockerfile <<'D'

FROM scratch
COPY Dockerfile .
ADD Dockerfile /windy

D
  ctx_file .dockerignore <<'I'

Dockerfile

I
  LINT_STREAM_ERR='"/Dockerfile": not found' check_lint <<'W'

W
  dockerfile <<'D'
# check=experimental=CopyIgnoredFile
FROM scratch
COPY Dockerfile .
ADD Dockerfile /windy

D
  ctx_file .dockerignore <<'I'

Dockerfile

I
  LINT_STREAM_ERR='"/Dockerfile": not found' check_lint <<'W'
CopyIgnoredFile|Attempting to Copy file that is excluded by .dockerignore|https://docs.docker.com/go/dockerfile/rule/copy-ignored-file/|Attempting to Copy file "Dockerfile" that is excluded by .dockerignore|3
CopyIgnoredFile|Attempting to Copy file that is excluded by .dockerignore|https://docs.docker.com/go/dockerfile/rule/copy-ignored-file/|Attempting to Add file "Dockerfile" that is excluded by .dockerignore|4
W
  dockerfile <<'D'
# check=skip=all;experimental=CopyIgnoredFile
FROM scratch
COPY Dockerfile .
ADD Dockerfile /windy

D
  ctx_file .dockerignore <<'I'

Dockerfile

I
  LINT_STREAM_ERR='"/Dockerfile": not found' check_lint <<'W'
CopyIgnoredFile|Attempting to Copy file that is excluded by .dockerignore|https://docs.docker.com/go/dockerfile/rule/copy-ignored-file/|Attempting to Copy file "Dockerfile" that is excluded by .dockerignore|3
CopyIgnoredFile|Attempting to Copy file that is excluded by .dockerignore|https://docs.docker.com/go/dockerfile/rule/copy-ignored-file/|Attempting to Add file "Dockerfile" that is excluded by .dockerignore|4
W
  dockerfile <<'D'

FROM scratch AS base
COPY Dockerfile /foobar
ADD Dockerfile /windy

FROM base
COPY --from=base /foobar /Dockerfile

D
  ctx_file .dockerignore <<'I'

foobar

I
  check_lint <<'W'

W
}

testAllTargetUnmarshal() {
  dockerfile <<'D'

FROM scratch AS first
COPY $foo .

FROM scratch AS second
COPY $bar .

D
  LINT_UNMARSHAL='UndefinedVar|Variables should be defined before their use|https://docs.docker.com/go/dockerfile/rule/undefined-var/|Usage of undefined variable '\''$foo'\''|3
UndefinedVar|Variables should be defined before their use|https://docs.docker.com/go/dockerfile/rule/undefined-var/|Usage of undefined variable '\''$bar'\''|6' check_lint <<'W'
UndefinedVar|Variables should be defined before their use|https://docs.docker.com/go/dockerfile/rule/undefined-var/|Usage of undefined variable '$bar'|6
W
}

testRuleCheckOption() {
  dockerfile <<'D'
#check=skip=all
FROM scratch as base
copy Dockerfile .

D
  check_lint <<'W'

W
  dockerfile <<'D'
#check=skip=all;error=true
FROM scratch as base
copy Dockerfile .

D
  check_lint <<'W'

W
  dockerfile <<'D'
#check=skip=ConsistentInstructionCasing,FromAsCasing
FROM scratch as base
copy Dockerfile .

D
  check_lint <<'W'

W
  dockerfile <<'D'
#check=skip=ConsistentInstructionCasing,FromAsCasing;error=true
FROM scratch as base
copy Dockerfile .

D
  check_lint <<'W'

W
  dockerfile <<'D'
#check=skip=ConsistentInstructionCasing
FROM scratch as base
copy Dockerfile .

D
  check_lint <<'W'
FromAsCasing|The 'as' keyword should match the case of the 'from' keyword|https://docs.docker.com/go/dockerfile/rule/from-as-casing/|'as' and 'FROM' keywords' casing do not match|2
W
  dockerfile <<'D'
#check=skip=ConsistentInstructionCasing;error=true
FROM scratch as base
copy Dockerfile .

D
  LINT_ERR='lint violation found for rules: FromAsCasing' check_lint <<'W'
FromAsCasing|The 'as' keyword should match the case of the 'from' keyword|https://docs.docker.com/go/dockerfile/rule/from-as-casing/|'as' and 'FROM' keywords' casing do not match|2
W
  dockerfile <<'D'
#check=skip=all
FROM scratch as base
copy Dockerfile .

D
  LINT_ERR='lint violation found for rules: FromAsCasing' check_lint --build-arg 'BUILDKIT_DOCKERFILE_CHECK=skip=ConsistentInstructionCasing;error=true' <<'W'
FromAsCasing|The 'as' keyword should match the case of the 'from' keyword|https://docs.docker.com/go/dockerfile/rule/from-as-casing/|'as' and 'FROM' keywords' casing do not match|2
W
  dockerfile <<'D'
#check=error=true
FROM scratch as base
copy Dockerfile .

D
  check_lint --build-arg 'BUILDKIT_DOCKERFILE_CHECK=skip=all' <<'W'

W
}

testConsistentInstructionCasing() {
  dockerfile <<'D'

# warning: 'FROM' should be either lowercased or uppercased
#
From scratch as base
FROM scratch AS base2

D
  check_lint <<'W'
ConsistentInstructionCasing|All commands within the Dockerfile should use the same casing (either upper or lower)|https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/|Command 'From' should match the case of the command majority (uppercase)|4
W
  dockerfile <<'D'

FROM scratch
# warning: 'copy' should match command majority's casing (uppercase)
copy Dockerfile /foo
COPY Dockerfile /bar

D
  check_lint <<'W'
ConsistentInstructionCasing|All commands within the Dockerfile should use the same casing (either upper or lower)|https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/|Command 'copy' should match the case of the command majority (uppercase)|4
W
  dockerfile <<'D'

# warning: 'frOM' should be either lowercased or uppercased
#
frOM scratch as base
from scratch as base2

D
  check_lint <<'W'
ConsistentInstructionCasing|All commands within the Dockerfile should use the same casing (either upper or lower)|https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/|Command 'frOM' should match the case of the command majority (lowercase)|4
W
  dockerfile <<'D'

from scratch
# warning: 'COPY' should match command majority's casing (lowercase)
COPY Dockerfile /foo
copy Dockerfile /bar

D
  check_lint <<'W'
ConsistentInstructionCasing|All commands within the Dockerfile should use the same casing (either upper or lower)|https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/|Command 'COPY' should match the case of the command majority (lowercase)|4
W
  dockerfile <<'D'

# warning: 'from' should match command majority's casing (uppercase)
#
from scratch
COPY Dockerfile /foo
COPY Dockerfile /bar
COPY Dockerfile /baz

D
  check_lint <<'W'
ConsistentInstructionCasing|All commands within the Dockerfile should use the same casing (either upper or lower)|https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/|Command 'from' should match the case of the command majority (uppercase)|4
W
  dockerfile <<'D'

# warning: 'FROM' should match command majority's casing (lowercase)
#
FROM scratch
copy Dockerfile /foo
copy Dockerfile /bar
copy Dockerfile /baz

D
  check_lint <<'W'
ConsistentInstructionCasing|All commands within the Dockerfile should use the same casing (either upper or lower)|https://docs.docker.com/go/dockerfile/rule/consistent-instruction-casing/|Command 'FROM' should match the case of the command majority (lowercase)|4
W
  dockerfile <<'D'

from scratch
copy Dockerfile /foo
copy Dockerfile /bar

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM scratch
COPY Dockerfile /foo
COPY Dockerfile /bar

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM alpine
RUN <<'EOT'
env
EOT

D
  check_lint <<'W'

W
}

testWarningsBeforeError() {
  dockerfile <<'D'

FROM scratch AS BadStageName
MAINTAINER me@example.org
BADCMD

D
  LINT_ERR='dockerfile parse error on line 4: unknown instruction: BADCMD' check_lint <<'W'
StageNameCasing|Stage names should be lowercase|https://docs.docker.com/go/dockerfile/rule/stage-name-casing/|Stage name 'BadStageName' should be lowercase|2
MaintainerDeprecated|The MAINTAINER instruction is deprecated, use a label instead to define an image author|https://docs.docker.com/go/dockerfile/rule/maintainer-deprecated/|Maintainer instruction is deprecated in favor of using label|3
W
}

testUndeclaredArg() {
  dockerfile <<'D'

ARG base=scratch
FROM $base
COPY Dockerfile .

D
  check_lint <<'W'

W
  dockerfile <<'D'

ARG BUILDPLATFORM=linux/amd64
FROM --platform=$BUILDPLATFORM scratch
COPY Dockerfile .

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM --platform=$BUILDPLATFORM scratch
COPY Dockerfile .

D
  check_lint <<'W'

W
  dockerfile <<'D'

ARG DEBUG
FROM scratch${DEBUG}
COPY Dockerfile .

D
  check_lint <<'W'

W
  dockerfile <<'D'

ARG DEBUG
FROM scra${DEBUG:-tch}
COPY Dockerfile .

D
  check_lint <<'W'

W
  dockerfile <<'D'

ARG DEBUG=""
FROM scratch${DEBUG-@bogus}
COPY Dockerfile .

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM --platform=$BULIDPLATFORM scratch
COPY Dockerfile .

D
  LINT_ERR='empty platform value from expression $BULIDPLATFORM (did you mean BUILDPLATFORM?)' check_lint <<'W'
UndefinedArgInFrom|FROM command must use declared ARGs|https://docs.docker.com/go/dockerfile/rule/undefined-arg-in-from/|FROM argument 'BULIDPLATFORM' is not declared (did you mean BUILDPLATFORM?)|2
W
  dockerfile <<'D'

ARG MY_OS=linux
ARG MY_ARCH=amd64
FROM --platform=linux/${MYARCH} busybox
COPY Dockerfile .
	
D
  LINT_ERR='failed to parse platform linux/${MYARCH}: "" is an invalid component of "linux/": platform specifier component must match "^[A-Za-z0-9_.-]+$": invalid argument (did you mean MY_ARCH?)' check_lint <<'W'
UndefinedArgInFrom|FROM command must use declared ARGs|https://docs.docker.com/go/dockerfile/rule/undefined-arg-in-from/|FROM argument 'MYARCH' is not declared (did you mean MY_ARCH?)|4
W
  dockerfile <<'D'

ARG tag=latest
FROM busybox:${tag}${version} AS b
COPY Dockerfile .

D
  check_lint <<'W'
UndefinedArgInFrom|FROM command must use declared ARGs|https://docs.docker.com/go/dockerfile/rule/undefined-arg-in-from/|FROM argument 'version' is not declared|3
W
}

testUnmatchedVars() {
  dockerfile <<'D'

FROM scratch
ARG foo
COPY Dockerfile${foo} .

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM alpine AS base
ARG foo=Dockerfile

FROM base
COPY $foo .

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM alpine
RUN echo $PATH

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM alpine
COPY $foo .
ARG foo=bar
RUN echo $foo

D
  check_lint <<'W'
UndefinedVar|Variables should be defined before their use|https://docs.docker.com/go/dockerfile/rule/undefined-var/|Usage of undefined variable '$foo'|3
W
  dockerfile <<'D'

FROM alpine
ARG DIR_BINARIES=binaries/
ARG DIR_ASSETS=assets/
ARG DIR_CONFIG=config/
COPY $DIR_ASSET .
	
D
  check_lint <<'W'
UndefinedVar|Variables should be defined before their use|https://docs.docker.com/go/dockerfile/rule/undefined-var/|Usage of undefined variable '$DIR_ASSET' (did you mean $DIR_ASSETS?)|6
W
  dockerfile <<'D'

FROM alpine
ENV PATH=$PAHT:/tmp/bin
		
D
  check_lint <<'W'
UndefinedVar|Variables should be defined before their use|https://docs.docker.com/go/dockerfile/rule/undefined-var/|Usage of undefined variable '$PAHT' (did you mean $PATH?)|3
W
}

testLegacyKeyValueFormat() {
  dockerfile <<'D'

FROM scratch
ENV testkey value
LABEL key value

D
  check_lint <<'W'
LegacyKeyValueFormat|Legacy key/value format with whitespace separator should not be used|https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/|"ENV key=value" should be used instead of legacy "ENV key value" format|3
LegacyKeyValueFormat|Legacy key/value format with whitespace separator should not be used|https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/|"LABEL key=value" should be used instead of legacy "LABEL key value" format|4
W
  dockerfile <<'D'

FROM scratch
ENV testkey=value
LABEL key=value

D
  check_lint <<'W'

W
  dockerfile <<'D'

FROM scratch AS a

FROM a AS b
ENV testkey value
LABEL key value

FROM a AS c

D
  LINT_UNMARSHAL='LegacyKeyValueFormat|Legacy key/value format with whitespace separator should not be used|https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/|"ENV key=value" should be used instead of legacy "ENV key value" format|3
LegacyKeyValueFormat|Legacy key/value format with whitespace separator should not be used|https://docs.docker.com/go/dockerfile/rule/legacy-key-value-format/|"LABEL key=value" should be used instead of legacy "LABEL key value" format|4' check_lint <<'W'

W
}

testInvalidDefaultArgInFrom() {
  # The tags of Docker Hub's busybox the Go test pulls.
  kiln tag busybox busybox:stable-musl
  dockerfile <<'D'

ARG VERSION
FROM busybox:$VERSION

D
  check_lint --build-arg 'VERSION=latest' <<'W'
InvalidDefaultArgInFrom|Default value for global ARG results in an empty or invalid base image name|https://docs.docker.com/go/dockerfile/rule/invalid-default-arg-in-from/|Default value for ARG busybox:$VERSION results in empty or invalid base image name|3
W
  dockerfile <<'D'

ARG IMAGE
FROM $IMAGE

D
  check_lint --build-arg 'IMAGE=busybox:latest' <<'W'
InvalidDefaultArgInFrom|Default value for global ARG results in an empty or invalid base image name|https://docs.docker.com/go/dockerfile/rule/invalid-default-arg-in-from/|Default value for ARG $IMAGE results in empty or invalid base image name|3
W
  dockerfile <<'D'

ARG SFX="box:"
FROM busy${SFX}

D
  check_lint --build-arg 'SFX=box:latest' <<'W'
InvalidDefaultArgInFrom|Default value for global ARG results in an empty or invalid base image name|https://docs.docker.com/go/dockerfile/rule/invalid-default-arg-in-from/|Default value for ARG busy${SFX} results in empty or invalid base image name|3
W
  dockerfile <<'D'

ARG VERSION="latest"
FROM busybox:${VERSION}

D
  check_lint --build-arg 'VERSION=latest' <<'W'

W
  dockerfile <<'D'

ARG BUSYBOX_VARIANT=""
FROM busybox:stable${BUSYBOX_VARIANT}

D
  check_lint --build-arg 'BUSYBOX_VARIANT=-musl' <<'W'

W
  dockerfile <<'D'

	ARG BUSYBOX_VARIANT
	FROM busybox:stable${BUSYBOX_VARIANT}
	
D
  check_lint --build-arg 'BUSYBOX_VARIANT=-musl' <<'W'

W
}

testMultipleInstructionsDisallowed() {
  # makeLintWarning INSTRUCTION LINE
  multiple() {
    echo "MultipleInstructionsDisallowed|Multiple instructions of the same type should not be used in the same stage|https://docs.docker.com/go/dockerfile/rule/multiple-instructions-disallowed/|Multiple $1 instructions should not be used in the same stage because only the last one will be used|$2"
  }
  dockerfile <<'D'

FROM scratch
ENTRYPOINT ["/myapp"]
ENTRYPOINT ["/myotherapp"]
CMD ["/myapp"]
CMD ["/myotherapp"]
HEALTHCHECK CMD ["/myapp"]
HEALTHCHECK CMD ["/myotherapp"]
D
  { multiple ENTRYPOINT 3; multiple CMD 5; multiple HEALTHCHECK 7; } | check_lint
  # Still a linter warning even when broken up with another command. Entrypoint is only used by the resulting image.
  dockerfile <<'D'

FROM scratch
ENTRYPOINT ["/myapp"]
CMD ["/myapp"]
HEALTHCHECK CMD ["/myapp"]
COPY <<EOF /a.txt
Hello, World!
EOF
ENTRYPOINT ["/myotherapp"]
CMD ["/myotherapp"]
HEALTHCHECK CMD ["/myotherapp"]
D
  { multiple ENTRYPOINT 3; multiple CMD 4; multiple HEALTHCHECK 5; } | check_lint
  dockerfile <<'D'

FROM scratch AS a
ENTRYPOINT ["/myapp"]
CMD ["/myapp"]
HEALTHCHECK CMD ["/myapp"]

FROM a AS b
ENTRYPOINT ["/myotherapp"]
CMD ["/myotherapp"]
HEALTHCHECK CMD ["/myotherapp"]
D
  check_lint < /dev/null
}
