rule sanechips_copyright
{
    meta:
        id = "sanechips_copyright"
        vendor = "sanechips"
        relationship = "made-by"
        confidence = "0.70"
        component = "Sanechips-authored code"
        description = "Sanechips copyright banner on ZTE ZX-series chip code"
        reference = "catalog.md §2.4 [sanechips_src]: 'Copyright (C) 2017 Sanechips Technology Co., Ltd.'"

    strings:
        $c = /Copyright \([cC]\) [0-9]{4}(-[0-9]{4})? Sanechips Technology Co\., ?Ltd/ ascii wide

    condition:
        $c
}
