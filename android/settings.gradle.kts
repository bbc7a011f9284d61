// The Android library app developers consume. Building it needs the Android SDK and NDK
// (not on the CI machine); its Kotlin is tested on a plain JVM by scripts/test-kotlin.sh.
pluginManagement {
    repositories { google(); mavenCentral(); gradlePluginPortal() }
}
dependencyResolutionManagement {
    repositories { google(); mavenCentral() }
}
rootProject.name = "authcore-android"
include(":authcore")
