#!/usr/bin/env python3
# jqdiff.py: differential testing of ds-map against the installed jq
# (Debian's 1.6) on programs generated from a grammar of the jq subset
# that man/ds-map.1 lists, with inputs generated alongside.
#
#   jqdiff.py [-s SEED] [-n N] [-t SECONDS] [-r FILE] [-x FILE]
#             [--ds DSMAP] [--jq JQ] [--cov] [--save FILE] [-o FILE]
#
# Each case is a program and 4 inputs: ds-map and jq each run the
# program once over 4 one-line files (i0..i3), "#", (PROGRAM) so that
# the outputs split per input, and the error lines ("jq: error (at
# i2:1)", "ds-map: i2:1:") say which inputs failed.  A case agrees when
# every input gives the same outputs and both or neither fail; error
# texts are not compared.  A program jq refuses to compile, or that
# ds-map calls unsupported, is skipped.
#
# Programs are trees (nodes of a type: expression, path, pattern);
# besides fresh ones, a case may be a mutation of a kept case: a subtree
# replaced by a fresh one of its type, or by one of another kept case.
# With --cov, DSMAP is the build of `make jqdiff` (clang's
# trace-pc-guard over lib/jq, test/jq/cov.c writing edge counts to
# $DS_JQCOV), and a case is kept when it reached an edge, or a count
# class of an edge (1, 2, 3, 4-7, 8-15, ...), that no case had reached.
# --save FILE writes the kept cases, cut to a greedy cover of their
# edges, as the corpus that -r FILE replays (test/jq/corpus.jsonl).
#
# jq 1.6 where ds deliberately differs (man/ds-map.1): the jq side of
# each case is rendered so that jq 1.6 computes what ds means, and what
# cannot be rendered is filtered after the fact:
#   rendered  try/? catch only errors of their body (1.6 also catches
#             later ones): jq runs ([try B][]) for try B, the same with
#             the handler applied after the [] for try B catch H,
#             ([B?][]) for B?, and in a path (([path(P?)][]) as $p |
#             getpath($p)) for P?;
#             if without else: jq gets "else ."; the 1.7 definitions of
#             limit (n <= 0 gives nothing), nth/2 (nothing beyond the
#             end), from_entries (its key and value names; a null
#             entry is an error, as in 1.6), reverse (of
#             a string), isnan, isinfinite (an error on what is not a
#             number), finites (which uses them), any, all and IN (which
#             stop at the first answer), pick, fromstream, bsearch
#             (its target a $parameter, evaluated once), and _modify
#             (which |= calls: the paths where the update has no
#             output are deleted together at the end) with
#             map_values,
#             abs, toarray, trim, ltrim, rtrim, add/1, isvalid, scan/2
#             (missing in 1.6) are prepended on the program's first
#             line; error(f) is error(f // "n"): 1.6 drops a null error.
#             A catch body sees "msg" for a string error: error texts
#             are not compared, and differ between jq versions.
#   filtered  (see known()) a jq output {"__jq":N} (1.6's try catches
#             break); jq's "Cannot index null with object" (1.6 refuses
#             a slice of null, later jq gives null); jq's "mktime not
#             supported on this platform" (1.6, before 1970); jq's
#             "slice must be numbers" where ds-map has no error (1.6
#             refuses a slice object without start or end); a program
#             with % or del when NaN or infinite numbers are about;
#             tonumber on strings outside JSON's number syntax; a ds
#             error about the line limit (string repetition); a jq crash
#             (1.6 asserts) or jq time-out.
# A disagreement is cut down (unless --no-shrink) to one input and the
# smallest program that still disagrees.  -x FILE (test/jq/xfail.jsonl,
# known ds-map bugs, see findings.md) is run first: its cases, and a
# disagreement whose program an entry's "like" pattern matches (and, with
# "jqempty", where jq has no output and ds-map an error) count as
# expected failures; an entry that agrees is reported as fixed (XPASS),
# to be moved to the corpus.
#
# Output: one block per disagreement, then a summary line; exit 1 when
# a disagreement was not expected.  -o FILE appends each unexpected one
# as a JSON line (the format of the corpus) for triage.
import argparse, json, os, random, re, subprocess, sys, tempfile, time

R = random.Random()
KEYS = ['a', 'b', 'c', 'k', 's', 'key', 'value']
STRS = ['', 'a', 'a b', 'x,y', 'ABC', 'é€', '1', '10', '-2.5', 'a1b2',
        '<&>\'"', ' pad ', 'aab', 'b\\nc', 'c\\td', '2015-03-05T23:51:47Z',
        'YWJj', 'a.b']
NUMS = ['0', '1', '2', '3', '-1', '0.5', '1.5', '-2.25', '10', '100',
        '1e3', '1e-5', '7', '1e17']
REGEX = ['"a"', '"[a-z]+"', '"(?<x>a)(b)?"', '"\\\\s"', '"^"', '""',
         '"b|c"', '"(a)|(b)"', '"[0-9]"', '"(?<n>[a-z])"']
FLAGS = ['"g"', '"i"', '"x"', '"n"', '"gi"', 'null', '"gx"']
FMTS = ['@text', '@json', '@html', '@uri', '@csv', '@tsv', '@sh',
        '@base64', '@base64d']
DATES = ['todate', 'gmtime', 'gmtime | mktime', 'todateiso8601',
         'fromdateiso8601', 'fromdate', 'strftime("%Y-%m-%dT%H:%M:%SZ")',
         'strptime("%Y-%m-%dT%H:%M:%SZ")', 'gmtime | todate',
         'strptime("%Y-%m-%dT%H:%M:%SZ") | mktime', 'strftime("%A %j")']
B0 = ('length utf8bytelength keys keys_unsorted to_entries from_entries add '
      'any all min max sort group_by(.) unique reverse flatten first last '
      'type tostring tojson fromjson ascii_downcase ascii_upcase explode '
      'implode floor ceil round trunc fabs sqrt log log2 exp exp2 exp10 '
      'infinite nan isnan isinfinite values nulls booleans numbers strings '
      'arrays objects iterables scalars paths leaf_paths tostream '
      'combinations transpose not empty abs toarray trim ltrim rtrim '
      'finites normals isnormal tonumber recurse .. error '
      'sin cos atan cbrt significand logb rint').split()
# name, arity, the types of the arguments (e: a filter, p: a path,
# r: a regex, f: regex flags, s: a string, n: a small number)
B1 = [('select', 'e'), ('map', 'e'), ('map_values', 'e'), ('has', 'e'),
      ('with_entries', 'e'), ('any', 'e'), ('all', 'e'), ('min_by', 'e'),
      ('max_by', 'e'), ('sort_by', 'e'), ('group_by', 'e'),
      ('unique_by', 'e'), ('flatten', 'n'), ('contains', 'e'),
      ('inside', 'e'), ('first', 'e'), ('last', 'e'), ('nth', 'n'),
      ('isempty', 'e'), ('range', 'n'), ('path', 'p'), ('getpath', 'e'),
      ('del', 'p'), ('delpaths', 'e'), ('ltrimstr', 's'), ('rtrimstr', 's'),
      ('startswith', 's'), ('endswith', 's'), ('split', 's'), ('join', 's'),
      ('test', 'r'), ('match', 'r'), ('capture', 'r'), ('scan', 'r'),
      ('splits', 'r'), ('paths', 'e'), ('indices', 'e'), ('index', 's'),
      ('rindex', 's'), ('in', 'e'), ('IN', 'e'), ('walk', 'e'),
      ('bsearch', 'e'), ('fromstream', 'e'), ('truncate_stream', 'e'),
      ('INDEX', 'e'), ('isvalid', 'e'), ('pick', 'p'), ('add', 'e'),
      ('combinations', 'n'), ('error', 'e'), ('tojson', None),
      ('min_by', 'e'), ('limit', 'ne'), ('nth', 'ne'), ('range', 'nn'),
      ('range', 'nnn'), ('split', 'rf'), ('test', 'rf'), ('match', 'rf'),
      ('capture', 'rf'), ('scan', 'rf'), ('sub', 'rs'), ('sub', 'rsf'),
      ('gsub', 'rs'), ('gsub', 'rsf'), ('splits', 'rf'), ('setpath', 'ee'),
      ('any', 'ee'), ('all', 'ee'), ('IN', 'ee'), ('INDEX', 'ee'),
      ('pow', 'ee'), ('atan2', 'ee'), ('fmin', 'ee'), ('ldexp', 'ee'),
      ('fmod', 'ee'), ('while', 'ee'), ('until', 'ee'), ('recurse', 'e'),
      ('recurse', 'ee'), ('getpath', 'e'), ('JOIN', 'ee'), ('ltrimstr', 'e'),
      ('test', 'e'), ('split', 'e'), ('join', 'e'), ('has', 's'),
      ('first', 'e'), ('limit', 'ee')]
# 1.7 (and later) definitions jq 1.6 runs in place of its own or missing
# ones; one line, so that $__loc__ keeps the program's line numbers
PRELUDE = ' '.join([
    'def limit($n; f): if $n > 0 then label $out | foreach f as $i (0;'
    ' . + 1; $i, if . >= $n then break $out else empty end)'
    ' elif $n == 0 then empty else f end;',
    'def nth($n; f): if $n < 0 then error("Out of bounds negative array'
    ' index") else label $out | foreach f as $i (-1; . + 1; if . == $n'
    ' then $i, break $out else empty end) end;',
    'def from_entries: reduce .[] as $x ({}; if $x == null then'
    ' error("null entry") else . + { ($x | if .key == null'
    ' then .k // .name // .Name // .K // .Key else .key end | if type =='
    ' "string" then . else tojson end): ($x | if has("value") then .value'
    ' elif has("v") then .v else .Value end) } end);',
    'def pick(pathexps): . as $top | reduce path(pathexps) as $p (null;'
    ' setpath($p; $top | getpath($p)));',
    'def abs: if type == "number" and . < 0 then - . else . end;',
    'def toarray: if type == "array" then . else [.] end;',
    'def ltrim: if type == "string" then sub("^[ \\t\\n\\r\\f\\u000b]+"; "")'
    ' else error("trim input must be a string") end;',
    'def rtrim: if type == "string" then sub("[ \\t\\n\\r\\f\\u000b]+$"; "")'
    ' else error("trim input must be a string") end;',
    'def trim: ltrim | rtrim;',
    'def reverse: if type == "string" then explode | reverse | implode'
    ' else [.[length - 1 - range(0; length)]] end;',
    'def isnan: if type == "number" then . != . else error("\\(type)'
    ' (\\(tojson)) number required") end;',
    'def isinfinite: if type == "number" then . == infinite or'
    ' . == -infinite else error("\\(type) (\\(tojson)) number required")'
    ' end;',
    'def finites: select(isinfinite or isnan | not);',
    'def any(g; c): isempty(first(g | c or empty)) | not;',
    'def all(g; c): isempty(first(g | c and empty));',
    'def any(f): any(.[]; f); def all(f): all(.[]; f);',
    'def any: any(.); def all: all(.);',
    'def IN(s): any(s == .; .); def IN(src; s): any(src == s; .);',
    'def add(f): reduce f as $x (null; . + $x);',
    'def isvalid(f): try (f | true) catch false;',
    'def scan($re; $flags): match($re; "g" + $flags) | if (.captures |'
    ' length > 0) then [.captures | .[] | .string] else .string end;',
    'def fromstream(f): {x: null, e: false} as $init | foreach f as $i'
    ' ($init; if .e then $init else . end | if $i | length == 2 then'
    ' setpath(["e"]; $i[0] | length == 0) | setpath(["x"] + $i[0];'
    ' $i[1]) else setpath(["e"]; $i[0] | length == 1) end;'
    ' if .e then .x else empty end);',
    'def _modify(paths; update): reduce path(paths) as $p ([., []];'
    ' . as $dot | null | label $out | ($dot[0] | getpath($p)) as $v |'
    ' ((($v | update | (., break $out)) as $w | $dot | setpath([0] + $p;'
    ' $w)), ($dot | setpath([1, (.[1] | length)]; $p)))) | . as $dot |'
    ' $dot[0] | delpaths($dot[1]);',
    'def map_values(f): .[] |= f;',
    'def bsearch($target): if length == 0 then -1 elif length == 1 then'
    ' (if $target == .[0] then 0 elif $target < .[0] then -1 else -2 end)'
    ' else . as $in | [0, length - 1, null] | until(.[0] > .[1]; if .[2]'
    ' != null then (.[1] = -1) else (((.[1] + .[0]) / 2) | floor) as $mid'
    ' | $in[$mid] as $m | if $m == $target then (.[2] = $mid) elif .[0] =='
    ' .[1] then (.[1] = -1) elif $m < $target then (.[0] = ($mid + 1))'
    ' else (.[1] = ($mid - 1)) end end) | if .[2] == null then (if'
    ' $in[.[0]] < $target then (-2 - .[0]) else (-1 - .[0]) end) else'
    ' .[2] end end;',
    ''])


# P? in a path, for jq: 1.6's try there also catches the errors of the
# update; the paths, taken first, make the same path expression
PATHTRY = '(([path(%s)][]) as $__p | getpath($__p))'


MSG = 'if type == "string" then "msg" else . end'
# try B catch H, for jq: the handler runs outside the collect, so that
# what it outputs before an error of its own stands
CATCH = ('(([try §0 catch {"\\u0001c": .}][]) | if type == "object" and '
         'has("\\u0001c") then (.["\\u0001c"] | %s | §1) else . end)')


def N(t, d, c=(), j=None):
    n = {'t': t, 'd': d, 'c': list(c)}
    if j is not None:
        n['j'] = j
    return n


def L(text, t='e'):
    return N(t, text)


def render(n, jq):
    """The program text of tree n, for jq (jq=True) or for ds-map."""
    tmpl = n['j'] if jq and 'j' in n else n['d']
    kids = [render(c, jq) for c in n['c']]
    return re.sub(r'§(\d)', lambda m: kids[int(m.group(1))], tmpl)


class Gen:
    """Trees of the grammar; d is the depth left, sc the $names in scope
    and the functions defined (name, arity)."""

    def __init__(self):
        self.nlabel = 0

    def lit(self):
        r = R.random()
        if r < 0.4:
            return R.choice(NUMS)
        if r < 0.8:
            return json.dumps(R.choice(STRS).replace('\\n', '\n')
                              .replace('\\t', '\t'), ensure_ascii=False)
        return R.choice(['null', 'true', 'false', '[]', '{}'])

    def var(self, sc):
        return L(R.choice(sc[0]))

    def atom(self, sc):
        r = R.random()
        k = R.choice(KEYS)
        if r < 0.25:
            a = R.choice(['.', '.%s' % k, '."%s"' % k, '.[%d]' %
                          R.randint(-2, 3), '.[]', '.[1:]', '.[:-1]',
                          '.[%s]' % json.dumps(k), '.%s?' % k, '.[]?',
                          '.%s.%s' % (k, R.choice(KEYS))])
            if a.endswith('?'):
                return N('e', a, (), '([%s][])' % a)
            return L(a)
        if r < 0.45:
            return L(self.lit())
        if r < 0.55:
            return self.var(sc)
        if r < 0.6 and sc[1]:
            f = R.choice(sc[1])
            if f[1] == 0:
                return L(f[0])
        if r < 0.65:
            return L('$__loc__')
        if r < 0.72:
            return L(R.choice(FMTS))
        if r < 0.76:
            return L('(%s)' % R.choice(DATES))
        b = R.choice(B0)
        if b == 'error':
            return L('(. // "n" | error)')
        return L(b)

    def arg(self, kind, d, sc):
        if kind == 'e':
            return self.e(d, sc)
        if kind == 'p':
            return self.path(d, sc)
        if kind == 'r':
            return L(R.choice(REGEX), 'r')
        if kind == 'f':
            return L(R.choice(FLAGS), 'f')
        if kind == 's':
            return L(json.dumps(R.choice(STRS + KEYS)), 's')
        return L(R.choice(['0', '1', '2', '3', '-1', '1.5']), 'n')

    def builtin(self, d, sc):
        name, kinds = R.choice(B1)
        if kinds is None:
            return L(name)
        kids = [self.arg(k, d - 1, sc) for k in kinds]
        args = '; '.join('§%d' % i for i in range(len(kids)))
        if name == 'error':
            return N('e', 'error(§0 // "n")', kids)
        if name in ('while', 'until', 'recurse') and len(kids) > 1 or \
                name == 'recurse' and len(kids) == 1:
            # bounded: a loop that ends is the exception, not the rule
            return N('e', 'limit(%d; %s(%s))' % (R.randint(1, 5), name,
                                                   args), kids)
        if name == 'combinations' or name == 'range':
            return N('e', 'limit(20; %s(%s))' % (name, args), kids)
        return N('e', '%s(%s)' % (name, args), kids)

    def path(self, d, sc):
        """A path expression: what assignments, path, del and pick take."""
        r = R.random()
        if d <= 0 or r < 0.4:
            k = R.choice(KEYS)
            a = R.choice(['.', '.%s' % k, '.[%d]' % R.randint(-2, 3),
                          '.[]', '.[1:]', '.%s.%s' % (k, R.choice(KEYS)),
                          '.[:2]', 'empty', '.%s?' % k, '.[]?'])
            if a.endswith('?'):
                return N('p', a, (), PATHTRY % a)
            return L(a, 'p')
        if r < 0.55:
            return N('p', '(§0 | §1)', [self.path(d - 1, sc),
                                       self.path(d - 1, sc)])
        if r < 0.65:
            return N('p', '(§0, §1)', [self.path(d - 1, sc),
                                        self.path(d - 1, sc)])
        if r < 0.75:
            return N('p', 'select(§0)', [self.e(d - 1, sc)])
        if r < 0.82:
            return N('p', '(§0)?', [self.path(d - 1, sc)],
                     PATHTRY % '(§0)?')
        if r < 0.9:
            return N('p', '.[§0]', [self.e(d - 1, sc)])
        return N('p', 'if §0 then §1 else §2 end', [
            self.e(d - 1, sc), self.path(d - 1, sc), self.path(d - 1, sc)])

    def pattern(self, d, sc, names):
        """A destructuring pattern; the $names it binds go to names."""
        r = R.random()
        v = '$' + R.choice('xyz')
        if d <= 0 or r < 0.4:
            names.append(v)
            return L(v, 'pat')
        if r < 0.7:
            kids = [self.pattern(d - 1, sc, names)
                    for _ in range(R.randint(1, 3))]
            return N('pat', '[%s]' % ', '.join('§%d' % i
                                               for i in range(len(kids))),
                     kids)
        k = R.choice(KEYS)
        if r < 0.8:
            names.append('$' + k)
            return L('{$%s}' % k, 'pat')
        if r < 0.9:
            return N('pat', '{%s: §0}' % k, [self.pattern(d - 1, sc, names)])
        return N('pat', '{(§0): §1}', [self.e(d - 1, sc),
                                        self.pattern(d - 1, sc, names)])

    def bind(self, d, sc):
        """f as PATTERN | g, with ?// alternatives now and then."""
        names = []
        pats = [self.pattern(2, sc, names)
                for _ in range(1 if R.random() < 0.7 else R.randint(2, 3))]
        inner = (sc[0] + sorted(set(names)), sc[1])
        src = self.e(d - 1, sc)
        body = self.e(d - 1, inner)
        kids = [src] + pats + [body]
        alts = ' ?// '.join('§%d' % (i + 1) for i in range(len(pats)))
        return N('e', '((§0) as %s | §%d)' % (alts, len(pats) + 1), kids)

    def fold(self, d, sc):
        v = R.choice(['$x', '$y'])
        inner = (sc[0] + [v], sc[1])
        kids = [self.e(d - 1, sc), self.e(d - 1, sc), self.e(d - 1, inner)]
        if R.random() < 0.5:
            return N('e', 'reduce (§0) as %s (§1; §2)' % v, kids)
        if R.random() < 0.5:
            kids.append(self.e(d - 1, inner))
            return N('e', 'foreach (§0) as %s (§1; §2; §3)' % v, kids)
        return N('e', 'foreach (§0) as %s (§1; §2)' % v, kids)

    def define(self, d, sc):
        name = R.choice(['f', 'g', 'h'])
        params = R.choice([[], ['a'], ['$p'], ['a', '$q']])
        fsc = (sc[0] + [p for p in params if p[0] == '$'],
               sc[1] + [(p, 0) for p in params if p[0] != '$'])
        if R.random() < 0.2:
            # recursion, bounded by a counter in the input
            body = N('e', 'if (. | type) == "number" and . > 0 then '
                     '(. - 1 | %s%s) else §0 end' % (
                         name, '(%s)' % '; '.join(
                             p if p[0] != '$' else p for p in params)
                         if params else ''), [self.e(d - 1, fsc)])
        else:
            body = self.e(d - 1, fsc)
        rest = self.e(d - 1, (sc[0], sc[1] + [(name, len(params))]))
        call = name
        if params:
            call = '%s(%s)' % (name, '; '.join('§%d' % (i + 2)
                                                for i in range(len(params))))
        kids = [body, rest] + [self.e(d - 2, sc) for _ in params]
        head = 'def %s%s: ' % (name, '(%s)' % '; '.join(params)
                               if params else '')
        return N('e', '(%s§0; (§1), %s)' % (head, call), kids)

    def e(self, d, sc):
        if d <= 0 or R.random() < 0.22:
            return self.atom(sc)
        r = R.random()
        e = lambda: self.e(d - 1, sc)
        if r < 0.16:
            op = R.choice(['+', '-', '*', '/', '%', '==', '!=', '<', '<=',
                           '>', '>=', 'and', 'or', '//'])
            return N('e', '(§0 %s §1)' % op, [e(), e()])
        if r < 0.26:
            return N('e', '(§0 | §1)' if R.random() < 0.6 else '(§0, §1)',
                     [e(), e()])
        if r < 0.31:
            k = R.choice(KEYS)
            if R.random() < 0.2:
                return N('e', '(§0)?', [e()], '([(§0)?][])')
            return N('e', R.choice(['(§0).%s' % k, '(§0)[%d]' %
                                    R.randint(-1, 2), '(§0)[]',
                                    '(§0)[1:]', '-(§0)', '[§0]']), [e()])
        if r < 0.37:
            if R.random() < 0.5:
                return N('e', 'if §0 then §1 else §2 end', [e(), e(), e()])
            if R.random() < 0.5:
                return N('e', 'if §0 then §1 end', [e(), e()],
                         'if §0 then §1 else . end')
            return N('e', 'if §0 then §1 elif §2 then §3 else §4 end',
                     [e(), e(), e(), e(), e()])
        if r < 0.43:
            if R.random() < 0.5:
                return N('e', '(try §0)', [e()], '([try §0][])')
            # error texts differ between jq versions: not compared
            return N('e', '(try §0 catch (%s | §1))' % MSG, [e(), e()],
                     CATCH % MSG)
        if r < 0.49:
            return self.fold(d, sc)
        if r < 0.56:
            if R.random() < 0.8:
                v = R.choice(['$x', '$y'])
                return N('e', '((§0) as %s | §1)' % v,
                         [e(), self.e(d - 1, (sc[0] + [v], sc[1]))])
            return self.bind(d, sc)
        if r < 0.59:
            self.nlabel += 1
            lab = '$l%d' % self.nlabel
            return N('e', '(label %s | §0 | if §1 then ., break %s else . '
                     'end)' % (lab, lab), [e(), e()])
        if r < 0.62:
            return self.define(d, sc)
        if r < 0.69:
            return N('e', '[§0]', [e()])
        if r < 0.74:
            k = R.choice(KEYS)
            forms = ['{%s: (§0)}' % k, '{(§0): (§1)}', '{%s}' % k,
                     '{%s: (§0), %s: (§1)}' % (k, R.choice(KEYS)),
                     '{"%s": (§0)}' % k]
            f = R.choice(forms)
            if R.random() < 0.2:
                f = '{%s}' % R.choice(sc[0])
            return N('e', f, [e(), e()])
        if r < 0.87:
            return self.builtin(d, sc)
        if r < 0.93:
            op = R.choice(['=', '|=', '+=', '-=', '*=', '/=', '%=', '//='])
            return N('e', '(§0 %s (§1))' % op, [self.path(d - 1, sc), e()])
        if r < 0.97:
            return N('e', '"x\\(§0)y\\(§1)"', [e(), e()])
        return N('e', '%s "<\\(§0)>"' % R.choice(FMTS), [e()])


def value(d):
    r = R.random()
    if d <= 0 or r < 0.45:
        r = R.random()
        if r < 0.35:
            return float(R.choice(NUMS)) if R.random() < 0.3 else \
                R.randint(-3, 12)
        if r < 0.75:
            return R.choice(STRS).replace('\\n', '\n').replace('\\t', '\t')
        return R.choice([None, True, False])
    if r < 0.72:
        return [value(d - 1) for _ in range(R.randint(0, 4))]
    return {R.choice(KEYS): value(d - 1) for _ in range(R.randint(0, 4))}


def inputs():
    ins = [json.dumps(value(3), ensure_ascii=False) for _ in range(3)]
    ins.append('{"a":3,"b":"q","c":[3,1,2,1],"k":{"a":null},"s":"a b"}')
    return ins


def fresh(g):
    sc = (['$v', '$w'], [])
    return {'t': g.e(R.randint(2, 5), sc), 'in': inputs()}


def nodes(n, out):
    out.append(n)
    for c in n['c']:
        nodes(c, out)
    return out


def mutate(g, case, pool):
    """A copy of case with one subtree replaced, or fresh inputs."""
    t = json.loads(json.dumps(case['t']))
    ins = list(case['in'])
    r = R.random()
    if r < 0.15:
        ins[R.randrange(3)] = json.dumps(value(3), ensure_ascii=False)
        return {'t': t, 'in': ins}
    sc = (['$v', '$w'], [])
    n = R.choice(nodes(t, []))
    if r < 0.4 and pool:
        donors = [m for m in nodes(R.choice(pool)['t'], []) if m['t'] == n['t']]
        new = json.loads(json.dumps(R.choice(donors))) if donors else None
    else:
        new = None
    if new is None:
        depth = R.randint(1, 3)
        new = {'e': lambda: g.e(depth, sc), 'p': lambda: g.path(depth, sc),
               'pat': lambda: g.pattern(1, sc, []),
               'r': lambda: g.arg('r', 0, sc), 'f': lambda: g.arg('f', 0, sc),
               's': lambda: g.arg('s', 0, sc),
               'n': lambda: g.arg('n', 0, sc)}[n['t']]()
    n.clear()
    n.update(new)
    return {'t': t, 'in': ins}


# a report where jq has no output and no error, and ds-map an error
JQEMPTY = re.compile(r'(input: [^\n]*\njq: *\nds-map: +\(error\)(\n|$))+$')
ERRLINE = re.compile(r'^(?:jq: error \(at |ds-map: )i(\d):')


def run(argv, prog, d, timeout, env=None):
    """Outputs per input file and the set of inputs that failed, or a
    string saying why there are none (crash, timeout, compile)."""
    try:
        p = subprocess.run(argv + [prog] + ['i%d' % i for i in range(4)],
                           cwd=d, capture_output=True, timeout=timeout,
                           env=env)
    except subprocess.TimeoutExpired:
        return 'timeout'
    err = p.stderr.decode('utf-8', 'replace')
    if p.returncode < 0 or p.returncode > 5 or 'Sanitizer' in err or \
            'runtime error' in err:
        return 'crash %d: %s' % (p.returncode, err[-600:])
    if p.returncode in (2, 3) and not ERRLINE.search(err):
        return 'compile: ' + err.strip().split('\n')[0]
    outs, cur = [], None
    for line in p.stdout.decode('utf-8', 'replace').split('\n')[:-1]:
        if line == '"#"':
            cur = []
            outs.append(cur)
        elif cur is not None:
            cur.append(line)
    bad = set()
    for line in err.split('\n'):
        m = ERRLINE.match(line)
        if m:
            bad.add(int(m.group(1)))
    return (outs, bad, err)


def known(case, jr, dr):
    """The documented class of a disagreement that is not ds's, or None."""
    p = case['p']
    if any('{"__jq":' in o for outs in jr[0] for o in outs):
        return 'jq 1.6: try catches break'
    numsy = re.search(r'nan|infinite|/|log|1e17|pow|exp|significand|gamma'
                      r'|logb|atan|ldexp', p)
    if numsy and re.search(r'%|del|delpaths', p):
        return 'NaN or infinity with % or del (jq 1.7)'
    if 'slice must be numbers' in jr[2] and not dr[1]:
        return 'a slice object without start or end (jq 1.6 refuses)'
    if 'mktime not supported on this platform' in jr[2]:
        return 'mktime before 1970 (jq 1.6 refuses)'
    if 'Cannot index null with object' in jr[2]:
        return 'null indexed with a slice (jq 1.6 refuses)'
    if 'tonumber' in p:
        return 'tonumber reads what strtod reads (jq 1.7)'
    if 'line limit' in dr[2] or 'too long' in dr[2]:
        return 'a string beyond the line limit'
    if re.search(r'\b1e17\b', p) or any('1e17' in i for i in case['in']):
        return 'an integer of more than 15 digits (jq 1.7 keeps it)'
    return None


def compare(case, args, d, cov):
    """None when ds-map and jq agree, else a report; sets case['p'],
    case['j'] and, with cov, case['cov'] (the edge count bytes)."""
    case['p'] = render(case['t'], False)
    case['j'] = PRELUDE + render(case['t'], True)
    for i, text in enumerate(case['in']):
        with open(os.path.join(d, 'i%d' % i), 'w') as f:
            f.write(text + '\n')
    va = ['--arg', 'v', 'a b', '--argjson', 'w', '[1,{"a":2}]']
    jr = run([args.jq, '-c'] + va, '"#", (%s)' % case['j'], d, args.timeout)
    if isinstance(jr, str):
        return None if jr.startswith('compile') else 'skip: jq ' + jr
    env = None
    if cov:
        env = dict(os.environ, DS_JQCOV=os.path.join(d, 'cov'))
    dr = run([args.ds, '--skip-bad'] + va, '"#", (%s)' % case['p'], d,
             args.timeout, env)
    if cov:
        with open(os.path.join(d, 'cov'), 'rb') as f:
            case['cov'] = f.read()
    if isinstance(dr, str):
        if dr.startswith('compile') and 'unsupported' in dr:
            return None
        return 'ds-map ' + dr
    if jr[:2] == dr[:2]:
        return None
    k = known(case, jr, dr)
    if k:
        return 'skip: ' + k
    lines = []
    for i in range(4):
        jo = jr[0][i] if i < len(jr[0]) else []
        do = dr[0][i] if i < len(dr[0]) else []
        je, de = i in jr[1], i in dr[1]
        if jo != do or je != de:
            lines.append('input:  %s\njq:     %s%s\nds-map: %s%s' % (
                case['in'][i], ' '.join(jo), ' (error)' if je else '',
                ' '.join(do), ' (error)' if de else ''))
    return '\n'.join(lines)


# count classes of an edge, as bits (AFL's buckets)
BUCKET = bytes([0, 1, 2, 4] + [8] * 4 + [16] * 8 + [32] * 16 + [64] * 96 +
               [128] * 128)


def features(c):
    return int.from_bytes(c.translate(BUCKET), 'little')


def cover(pool):
    """A greedy cover of the kept cases' features, biggest first."""
    left = [(features(c['cov']), c) for c in pool if 'cov' in c]
    want = 0
    for f, _ in left:
        want |= f
    out = []
    while want:
        f, c = max(left, key=lambda fc: bin(fc[0] & want).count('1'))
        if not f & want:
            break
        out.append(c)
        want &= ~f
    return out


def differs(case, args, d):
    rep = compare(case, args, d, False)
    return rep is not None and not rep.startswith('skip')


def shrink(case, args, d):
    """case cut down while it still disagrees: one disagreeing input
    (the others copies of it), subtrees replaced by a child of their
    type or by the simplest term of it, in at most 300 tries."""
    case = {'t': json.loads(json.dumps(case['t'])), 'in': list(case['in'])}
    for i in range(4):
        c = dict(case, **{'in': [case['in'][i]] * 4})
        if differs(c, args, d):
            case = c
            break
    simplest = {'e': ['.', 'null'], 'p': ['.']}
    progress, steps = True, 0
    while progress and steps < 300:
        progress = False
        for n in nodes(case['t'], []):
            old = dict(n)
            cands = [json.loads(json.dumps(c)) for c in old['c']
                     if c['t'] == old['t']]
            cands += [L(x, old['t']) for x in simplest.get(old['t'], [])
                      if old['d'] != x]
            for new in cands:
                n.clear()
                n.update(new)
                steps += 1
                if differs(case, args, d):
                    progress = True
                    break
                n.clear()
                n.update(old)
            if progress:
                break
    compare(case, args, d, False)
    return case


def load(path):
    """The cases of a JSON-lines file: trees ("t"), or program texts
    ("p") for hand-written ones, each with its 4 inputs ("in")."""
    out = []
    for line in open(path):
        c = json.loads(line)
        if 't' not in c:
            c['t'] = L(c['p'])
        out.append(c)
    return out


def dump(case):
    return json.dumps({'t': case['t'], 'in': case['in']}, ensure_ascii=False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('-s', '--seed', type=int, default=1)
    ap.add_argument('-n', type=int, default=300,
                    help='fresh cases to run (after -r and -x)')
    ap.add_argument('-t', type=float, help='or run for this many seconds')
    ap.add_argument('-r', '--replay', help='run the cases of FILE first')
    ap.add_argument('-x', '--xfail', help='known ds-map bugs (JSON lines)')
    ap.add_argument('--ds', default='ds-map')
    ap.add_argument('--jq', default='jq')
    ap.add_argument('--cov', action='store_true')
    ap.add_argument('--save', help='write the kept cases to FILE')
    ap.add_argument('-o', '--out', help='append disagreements to FILE')
    ap.add_argument('--no-shrink', dest='shrink', action='store_false',
                    help='print disagreements as found, not cut down')
    ap.add_argument('--timeout', type=float, default=10)
    args = ap.parse_args()
    for k in ('ds', 'jq'):
        if os.sep in getattr(args, k):
            setattr(args, k, os.path.abspath(getattr(args, k)))
    R.seed(args.seed)
    g = Gen()
    queue = load(args.xfail) if args.xfail else []
    for c in queue:
        c['x'] = True
    xfail = set(render(c['t'], False) for c in queue)
    likes = [(re.compile(c['like']), c.get('jqempty'))
             for c in queue if 'like' in c]
    if args.replay:
        queue += load(args.replay)
    pool, glob, seen = [], 0, set()
    n = nq = bad = skip = expected = fixed = 0
    start = time.time()
    with tempfile.TemporaryDirectory() as d:
        while True:
            if queue:
                case = queue.pop(0)
                nq += 1
            elif args.t is not None and time.time() - start > args.t:
                break
            elif args.t is None and n - nq >= args.n:
                break
            elif pool and R.random() < 0.7:
                case = mutate(g, R.choice(pool), pool)
            else:
                case = fresh(g)
            n += 1
            rep = compare(case, args, d, args.cov)
            if args.cov and 'cov' in case:
                f = features(case['cov'])
                if f & ~glob:
                    glob |= f
                    pool.append(case)
            elif not args.cov and rep is None and args.save:
                pool.append(case)
            if rep is None:
                if case.get('x'):
                    fixed += 1
                    print('XPASS (fixed, move it to the corpus): %s' %
                          case['p'])
                continue
            if rep.startswith('skip'):
                skip += 1
                continue
            # a known bug: the program of an entry, or one its `like`
            # matches, as generated or cut down
            known_bug = lambda c: not rep.startswith('ds-map') and (
                c['p'] in xfail or any(r.search(c['p']) and (
                    not e or JQEMPTY.match(rep)) for r, e in likes))
            if not known_bug(case) and args.shrink and \
                    not rep.startswith('ds-map timeout'):
                case = shrink(case, args, d)
                rep = compare(case, args, d, False)
            if known_bug(case):
                expected += 1
                continue
            if case['p'] in seen:
                continue
            seen.add(case['p'])
            bad += 1
            print('--- program (ds): %s\n    program (jq): %s\n%s' % (
                case['p'], case['j'][len(PRELUDE):], rep), flush=True)
            if args.out:
                with open(args.out, 'a') as f:
                    f.write(dump(case) + '\n')
    if args.save:
        keep = cover(pool) if args.cov else pool
        with open(args.save, 'w') as f:
            for c in keep:
                f.write(dump(c) + '\n')
    edges = bin(glob).count('1') if args.cov else 0
    print('%d cases, %d differ, %d expected (xfail), %d fixed (xpass), '
          '%d skipped (known jq 1.6 classes)%s' % (
              n, bad, expected, fixed, skip,
              ', %d features, %d kept' % (edges, len(pool))
              if args.cov else ''))
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
