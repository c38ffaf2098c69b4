#!/usr/bin/env python3
"""Validates a META.json against the PGXN Meta Spec 1.0.0 (https://pgxn.org/spec/).

PGXN's own validators (PGXN::Meta::Validator on CPAN, the pgxn_meta crate) come from
registries this project's machines do not reach, so the spec's rules are checked here:
required keys, SemVer versions, terms and tags, licenses, maintainers, provides,
prereqs with version ranges, resources, no_index and release_status; unknown keys are
refused unless they start with x_ or X_ (custom keys). Prints each problem as
"path: what is wrong" and exits 1 when there is one, 0 when there is none.
"""
import json
import re
import sys

SEMVER = (r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
          r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
          r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?")
VERSION = re.compile("^" + SEMVER + "$")
RANGE_ITEM = r"(?:(?:[=!]=|[<>]=?)\s*)?(?:" + SEMVER + "|0)"
VERSION_RANGE = re.compile(r"^" + RANGE_ITEM + r"(?:,\s*" + RANGE_ITEM + r")*$")
CONTROL = "\x00-\x1f\x7f"
TERM = re.compile(r"^[^/\\\s" + CONTROL + r"]{2,}$")
TAG = re.compile(r"^[^/\\" + CONTROL + r"]{2,255}$")
URI = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
LICENSES = {"agpl_3", "apache_1_1", "apache_2_0", "artistic_1", "artistic_2", "bsd", "freebsd",
            "gfdl_1_2", "gfdl_1_3", "gpl_1", "gpl_2", "gpl_3", "lgpl_2_1", "lgpl_3_0", "mit",
            "mozilla_1_0", "mozilla_1_1", "openssl", "perl_5", "postgresql", "qpl_1_0", "ssleay",
            "sun", "zlib", "open_source", "restricted", "unrestricted", "unknown"}
PHASES = {"configure", "build", "test", "runtime", "develop"}
RELATIONS = {"requires", "recommends", "suggests", "conflicts"}

problems = []


def problem(path, text):
    problems.append(f"{path}: {text}")


def custom(key):
    return re.match(r"^[xX]_.", key) is not None


def keys_allowed(value, path, allowed):
    for key in value:
        if key not in allowed and not custom(key):
            problem(f"{path}.{key}", "is not a key the spec defines (custom keys start with x_)")


def string(value, path, pattern=None, what="a non-empty string"):
    if not isinstance(value, str) or not value or (pattern is not None and not pattern.match(value)):
        problem(path, f"must be {what}, not {json.dumps(value)}")


def obj(value, path):
    if not isinstance(value, dict):
        problem(path, "must be an object")
        return False
    return True


def check_license(value, path):
    if isinstance(value, str):
        if value not in LICENSES:
            problem(path, f"{value!r} is not one of the spec's license names")
    elif isinstance(value, list) and value:
        for i, item in enumerate(value):
            if item not in LICENSES:
                problem(f"{path}[{i}]", f"{item!r} is not one of the spec's license names")
    elif isinstance(value, dict) and value:
        for name, uri in value.items():
            string(uri, f"{path}.{name}", URI, "a URI")
    else:
        problem(path, "must be a license name, a non-empty list of them, or an object of names to URIs")


def check_maintainer(value, path):
    if isinstance(value, list) and value:
        for i, item in enumerate(value):
            string(item, f"{path}[{i}]")
    elif not (isinstance(value, str) and value):
        problem(path, "must be a string or a non-empty list of strings")


def check_provides(value, path):
    if not obj(value, path) or not value:
        if isinstance(value, dict):
            problem(path, "must name at least one extension")
        return
    for name, extension in value.items():
        here = f"{path}.{name}"
        string(name, here, TERM, "a term (two or more characters, no slash, backslash or space)")
        if not obj(extension, here):
            continue
        keys_allowed(extension, here, {"file", "version", "abstract", "docfile"})
        for required in ("file", "version"):
            if required not in extension:
                problem(here, f"lacks the required key {required}")
        if "version" in extension:
            string(extension["version"], f"{here}.version", VERSION, "a SemVer version")
        for key in ("file", "docfile"):
            if key in extension:
                string(extension[key], f"{here}.{key}", re.compile(r"^[^\\]+$"), "a relative unix path")
                if isinstance(extension[key], str) and extension[key].startswith("/"):
                    problem(f"{here}.{key}", "must be relative to the distribution's root")
        if "abstract" in extension:
            string(extension["abstract"], f"{here}.abstract")


def check_prereqs(value, path):
    if not obj(value, path):
        return
    keys_allowed(value, path, PHASES)
    for phase, relations in value.items():
        if custom(phase):
            continue
        here = f"{path}.{phase}"
        if not obj(relations, here):
            continue
        if not relations:
            problem(here, "must hold at least one relationship")
        keys_allowed(relations, here, RELATIONS)
        for relation, prereqs in relations.items():
            if custom(relation) or not obj(prereqs, f"{here}.{relation}"):
                continue
            for name, version in prereqs.items():
                where = f"{here}.{relation}.{name}"
                string(name, where, TERM, "a term")
                if not (version == 0 or (isinstance(version, str) and VERSION_RANGE.match(version))):
                    problem(where, f"{json.dumps(version)} is not a version range (0, 1.2.3, '>= 1.2.3, < 2.0.0')")


def check_resources(value, path):
    if not obj(value, path):
        return
    keys_allowed(value, path, {"homepage", "bugtracker", "repository"})
    if "homepage" in value:
        string(value["homepage"], f"{path}.homepage", URI, "a URI")
    if "bugtracker" in value and obj(value["bugtracker"], f"{path}.bugtracker"):
        keys_allowed(value["bugtracker"], f"{path}.bugtracker", {"web", "mailto"})
        if "web" in value["bugtracker"]:
            string(value["bugtracker"]["web"], f"{path}.bugtracker.web", URI, "a URI")
        if "mailto" in value["bugtracker"]:
            string(value["bugtracker"]["mailto"], f"{path}.bugtracker.mailto", EMAIL, "an email address")
    if "repository" in value and obj(value["repository"], f"{path}.repository"):
        keys_allowed(value["repository"], f"{path}.repository", {"url", "web", "type"})
        for key in ("url", "web"):
            if key in value["repository"]:
                string(value["repository"][key], f"{path}.repository.{key}", URI, "a URI")
        if "type" in value["repository"]:
            string(value["repository"]["type"], f"{path}.repository.type", re.compile(r"^[a-z]+$"),
                   "a lower-case word (git, svn, ...)")


def validate(meta):
    if not obj(meta, "META.json"):
        return
    keys_allowed(meta, "META.json", {"name", "version", "abstract", "maintainer", "license", "provides",
                                     "meta-spec", "description", "generated_by", "tags", "no_index",
                                     "prereqs", "release_status", "resources"})
    for required in ("name", "version", "abstract", "maintainer", "license", "provides", "meta-spec"):
        if required not in meta:
            problem("META.json", f"lacks the required key {required}")
    if "name" in meta:
        string(meta["name"], "name", TERM, "a term (two or more characters, no slash, backslash or space)")
    if "version" in meta:
        string(meta["version"], "version", VERSION, "a SemVer version")
    for key in ("abstract", "description", "generated_by"):
        if key in meta:
            string(meta[key], key)
    if "maintainer" in meta:
        check_maintainer(meta["maintainer"], "maintainer")
    if "license" in meta:
        check_license(meta["license"], "license")
    if "provides" in meta:
        check_provides(meta["provides"], "provides")
    if "meta-spec" in meta and obj(meta["meta-spec"], "meta-spec"):
        spec = meta["meta-spec"]
        keys_allowed(spec, "meta-spec", {"version", "url"})
        if not (isinstance(spec.get("version"), str) and re.match(r"^1\.0\.\d+$", spec["version"])):
            problem("meta-spec.version", "must be 1.0.x")
        if "url" in spec:
            string(spec["url"], "meta-spec.url", URI, "a URI")
    if "tags" in meta:
        if not isinstance(meta["tags"], list) or not meta["tags"]:
            problem("tags", "must be a non-empty list")
        else:
            for i, tag in enumerate(meta["tags"]):
                string(tag, f"tags[{i}]", TAG, "a tag (2 to 255 characters, no slash, backslash or control character)")
    if "no_index" in meta and obj(meta["no_index"], "no_index"):
        keys_allowed(meta["no_index"], "no_index", {"file", "directory"})
        for key, paths in meta["no_index"].items():
            if not custom(key) and (not isinstance(paths, list) or not paths):
                problem(f"no_index.{key}", "must be a non-empty list of paths")
    if "prereqs" in meta:
        check_prereqs(meta["prereqs"], "prereqs")
    if "release_status" in meta and meta["release_status"] not in ("stable", "testing", "unstable"):
        problem("release_status", "must be stable, testing or unstable")
    if "resources" in meta:
        check_resources(meta["resources"], "resources")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "META.json"
    try:
        with open(path, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as error:
        print(f"{path}: {error}")
        return 1
    validate(meta)
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
