rule hisilicon_goke_lineage
{
    meta:
        id = "hisilicon_goke_lineage"
        vendor = "hisilicon"
        relationship = "lineage"
        confidence = "0.50"
        component = "Goke SDK (HiSilicon lineage)"
        description = "HiSilicon MPP API family in a Goke SDK (GK_API, goke,sys, libgk_api) without HiSilicon's own version strings"
        reference = "catalog.md §2.2, §4 F13 [openipc_fw][ipctool]: Goke libhi_mpi.so exports ~1,066 HI_MPI_* symbols"

    strings:
        $api = "HI_MPI_SYS_"
        $gk1 = "GK_API_"
        $gk2 = "goke,sys"
        $gk3 = "libgk_api.so"
        $hisi1 = "HI_VERSION=Hi3"
        $hisi2 = "hisilicon,hisi-sys"

    condition:
        $api and 1 of ($gk*) and not any of ($hisi*)
}
