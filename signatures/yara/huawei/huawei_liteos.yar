rule huawei_liteos
{
    meta:
        id = "huawei_liteos"
        vendor = "huawei"
        relationship = "made-by"
        confidence = "0.90"
        component = "Huawei LiteOS"
        description = "Huawei LiteOS kernel: the OS name with a second LiteOS marker (version, section macro, LOS_ API, author)"
        reference = "catalog.md §4 F7 [liteos]; open source, so a third-party product embedding it is contains"
        version_regex = "(V200R00\\dC\\d{2}B\\d{3})"

    strings:
        $os = "Huawei LiteOS"
        $author = "Huawei LiteOS Team"
        $sec = "LITE_OS_SEC_TEXT"
        $ver = /V200R00[0-9]C[0-9]{2}B[0-9]{3}/
        $los1 = "LOS_TaskCreate"
        $los2 = "LOS_KernelInit"

    condition:
        $os and 1 of ($author, $sec, $ver, $los*)
}
