// org.authcore: the generated UniFFI Kotlin (Android flavour) plus the idiomatic layer in
// src/main/kotlin and the Android Keystore key store in src/androidMain/kotlin.
// Native libraries come from ../../scripts/build-android.sh (cargo-ndk) into src/main/jniLibs.
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "org.authcore"
    compileSdk = 35
    defaultConfig {
        minSdk = 24
        consumerProguardFiles("consumer-rules.pro")
    }
    sourceSets["main"].java.srcDirs(
        "src/main/kotlin",
        "src/androidMain/kotlin",
        // Written by scripts/build-android.sh; never committed.
        "build/generated/uniffi",
    )
    // The JVM tests' helpers shared with android/android-api (the pi peer's client).
    sourceSets["test"].java.srcDirs("src/test/kotlin", "src/testFixtures/kotlin")
    // The tests are JUnit 5 (Jupiter), as on the JVM under Maven: without the JUnit Platform,
    // Gradle's default JUnit 4 runner would find no tests in them and pass.
    testOptions {
        // The timing benchmarks (tagged) run from scripts/bench.sh, not with the tests.
        unitTests.all { it.useJUnitPlatform { excludeTags("benchmark") } }
    }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}

kotlin { jvmToolchain(17) }

dependencies {
    implementation("net.java.dev.jna:jna:5.14.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.9.0")
    testImplementation("org.junit.jupiter:junit-jupiter:5.11.4")
    testImplementation(kotlin("test-junit5"))
    // Gradle 9 no longer supplies the launcher; it must match junit-jupiter's platform (1.11.x).
    testRuntimeOnly("org.junit.platform:junit-platform-launcher:1.11.4")
    // Android's own org.json is a stub in local unit tests.
    testImplementation("org.json:json:20240303")
}

// Run the Rust build and the bindgen before compiling Kotlin.
val buildRust by tasks.registering(Exec::class) {
    workingDir = rootDir.parentFile
    commandLine("bash", "scripts/build-android.sh")
}
tasks.named("preBuild") { dependsOn(buildRust) }
