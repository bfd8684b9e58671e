rule hisilicon_mpp_version
{
    meta:
        id = "hisilicon_mpp_version"
        vendor = "hisilicon"
        relationship = "made-by"
        confidence = "0.90"
        component = "HiSilicon MPP SDK"
        description = "HiSilicon MPP (media processing platform) SDK: the Hi35xx MPP version banner with the HI_MPI_ API family"
        reference = "catalog.md §4 F11 [openipc_fw]: libmpi.so carries HI_VERSION=Hi3516EV200_MPP_V1.0.1.2 B030 Release and ~683 HI_MPI_* exports"
        version_regex = "(Hi35\\w+_MPP_V[\\d.]+(?: B\\d+)?)"

    strings:
        $version = /HI_VERSION=Hi35[0-9A-Z]{2,8}_MPP_V[0-9.]{3,16}/
        $banner = /\[SYS\] Version: \[Hi35[0-9A-Z]{2,8}_MPP_V[0-9.]{3,16}/
        $api = "HI_MPI_SYS_" ascii

    condition:
        ($version or $banner) and $api
}
