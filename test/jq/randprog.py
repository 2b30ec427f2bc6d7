# randprog.py SEED N: N random jq programs (one a line) over the input
# {"a":3,"b":"q","c":[3,1,2,1],"d":{"e":null},"s":"a b"}, built from the
# constructs ds-map supports; test/ds-map.bats runs them through jq and
# ds-map and compares.  `try` is left out: jq 1.6 lets it catch errors
# raised after it (fixed in jq 1.7, which ds-map follows).
import random, sys
random.seed(int(sys.argv[1]))
atoms = ['.', '.a', '.b', '.c[0]', '.c[]', '.d.e', '1', '"x"', 'null', 'true', '[.c[] | . * 2]', '{a, b}', '.s', 'length', 'keys', '(.c | add)', '"\\(.a)-\\(.s)"', '$v', '.c[1:]', 'empty', '(.c | first)', 'tostring', '(.s | ascii_upcase)', '(.s | split(" "))', '[range(3)]', '(.c|sort)', '(.c|unique)', 'to_entries', '(.s | test("b"))', '(.c | map(. + 1))', 'type', '(.a // 7)', '{(.s): .a}']
ops = ['+', '-', '*', '==', '<', 'and', 'or', '//', ',', '|']
def e(d):
    if d == 0 or random.random() < 0.3:
        return random.choice(atoms)
    r = random.random()
    if r < 0.5:
        return '(%s %s %s)' % (e(d-1), random.choice(ops), e(d-1))
    if r < 0.6:
        return 'if %s then %s else %s end' % (e(d-1), e(d-1), e(d-1))
    if r < 0.7:
        return '[%s]' % e(d-1)
    if r < 0.75:
        return 'select(%s)' % e(d-1)
    if r < 0.8:
        return '(%s as $v | %s)' % (e(d-1), e(d-1))
    if r < 0.85:
        return 'first(%s)' % e(d-1)
    if r < 0.9:
        return 'reduce .c[] as $v (%s; %s)' % (e(d-1), e(d-1))
    return '{k: %s}' % e(d-1)
for i in range(int(sys.argv[2])):
    p = e(4)
    if '$v' in p and 'as $v' not in p and 'reduce' not in p:
        p = '1 as $v | ' + p
    print(p)
