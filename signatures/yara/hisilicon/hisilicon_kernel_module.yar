rule hisilicon_kernel_module
{
    meta:
        id = "hisilicon_kernel_module"
        vendor = "hisilicon"
        relationship = "made-by"
        confidence = "0.90"
        component = "HiSilicon MPP kernel module"
        description = "HiSilicon MPP kernel module: an ELF with the hisilicon,hisi-sys compatible and the [SYS] version banner or proprietary licence"
        reference = "catalog.md §4 F11 [openipc_fw]: hi3516ev200_sys.ko"
        version_regex = "(Hi3\\w+_MPP_V[\\d.]+(?: B\\d+)?)"

    strings:
        $dt = "hisilicon,hisi-sys"
        $ver = /\[SYS\] Version: \[Hi3[0-9]{3}[0-9A-Z]{0,8}_MPP_V[0-9.]{3,16}/
        $lic = "license=Proprietary"

    condition:
        uint32(0) == 0x464C457F and $dt and ($ver or $lic)
}
