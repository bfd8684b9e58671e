rule huawei_copyright
{
    meta:
        id = "huawei_copyright"
        vendor = "huawei"
        relationship = "made-by"
        confidence = "0.70"
        component = "Huawei-authored code"
        description = "Huawei copyright banner: Copyright (c) [years] Huawei Technologies Co., Ltd."
        reference = "catalog.md §2.1 [liteos][kernel_pciids]: 'Copyright (c) Huawei Technologies Co., Ltd. 2013-2020. All rights reserved.'"

    strings:
        $c = /Copyright (\([cC]\) )?([0-9]{4}(-[0-9]{4})?,? )?Huawei Technologies Co\., ?Ltd/ ascii wide

    condition:
        $c
}
